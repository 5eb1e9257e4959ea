<?php
/**
 * The emails about a migration from this site: one when it starts, one when it completes or fails. They go to
 * the site's admin address and to the user who started the migration, through wp_mail. No token, ever.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Mailer {
	/** @return string[] */
	private static function recipients( array $job ): array {
		$to    = array();
		$admin = is_multisite() ? get_site_option( 'admin_email' ) : get_option( 'admin_email' );
		if ( is_email( $admin ) ) {
			$to[] = $admin;
		}
		$user = get_userdata( (int) ( $job['started_by'] ?? 0 ) );
		if ( $user && is_email( $user->user_email ) ) {
			$to[] = $user->user_email;
		}
		/**
		 * Filters who gets SiteLift's emails about a migration.
		 *
		 * @param string[] $to  addresses.
		 * @param array    $job the job record (without the token).
		 */
		$to = apply_filters( 'sitelift_mail_recipients', array_values( array_unique( $to ) ), self::without_token( $job ) );
		return array_values( array_filter( (array) $to, 'is_email' ) );
	}

	private static function without_token( array $job ): array {
		unset( $job['token'] );
		return $job;
	}

	private static function screen_url(): string {
		return Admin::page_url( 'migrate' );
	}

	private static function site_title(): string {
		return wp_specialchars_decode( (string) get_bloginfo( 'name' ), ENT_QUOTES );
	}

	/** Sends the "started" email; true when wp_mail accepted it. */
	public static function started( array $job, array $state ): bool {
		$destination = (string) ( $state['destination_url'] ?? '' );
		/* translators: 1: site title, 2: destination site name. */
		$subject = sprintf( __( '[%1$s] Migration to "%2$s" started', 'sitelift' ), self::site_title(), $job['site_name'] );
		$lines   = array(
			/* translators: %s: this site's URL. */
			sprintf( __( 'A migration of %s has started.', 'sitelift' ), home_url() ),
			/* translators: 1: destination site name, 2: destination URL. */
			sprintf( __( 'Destination: %1$s %2$s', 'sitelift' ), $job['site_name'], $destination ),
			'',
			__( 'It goes on when the SiteLift page is closed. You will get another email when it completes or fails.', 'sitelift' ),
			/* translators: %s: admin page URL. */
			sprintf( __( 'Progress: %s', 'sitelift' ), self::screen_url() ),
		);
		return self::send( $job, $subject, $lines );
	}

	/** Sends the "completed" or "failed" email; true when wp_mail accepted it. */
	public static function finished( array $job, array $state ): bool {
		$destination = (string) ( $state['destination_url'] ?? '' );
		if ( 'done' === $job['status'] ) {
			/* translators: 1: site title, 2: destination site name. */
			$subject = sprintf( __( '[%1$s] Migration to "%2$s" completed', 'sitelift' ), self::site_title(), $job['site_name'] );
			$lines   = array(
				/* translators: 1: this site's URL, 2: destination URL. */
				sprintf( __( '%1$s now runs at %2$s, verified.', 'sitelift' ), home_url(), $destination ),
				'',
				__( 'The destination now has this site\'s users: log in there with the same usernames and passwords as here. Its former accounts no longer work.', 'sitelift' ),
				/* translators: %s: admin page URL. */
				sprintf( __( 'Report: %s', 'sitelift' ), self::screen_url() ),
			);
		} else {
			/* translators: 1: site title, 2: destination site name. */
			$subject = sprintf( __( '[%1$s] Migration to "%2$s" failed', 'sitelift' ), self::site_title(), $job['site_name'] );
			$lines   = array(
				/* translators: %s: destination URL. */
				sprintf( __( 'The migration to %s stopped:', 'sitelift' ), $destination ),
				(string) $job['error'],
				'',
				__( 'The destination still runs its own site. Open SiteLift to resume or cancel.', 'sitelift' ),
				self::screen_url(),
			);
		}
		return self::send( $job, $subject, $lines );
	}

	private static function send( array $job, string $subject, array $lines ): bool {
		$to = self::recipients( $job );
		if ( ! $to ) {
			return true; // nobody to tell; do not try again at every step
		}
		return (bool) wp_mail( $to, $subject, implode( "\n", $lines ) . "\n" );
	}
}
