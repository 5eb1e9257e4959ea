<?php
/**
 * The destination's side of the admin screens: its site name, the machine token (created, shown once,
 * revoked), the incoming migration's status, and roll back / delete backup after one completed. Also fires the
 * `sitelift_before_import` / `sitelift_after_import` actions for hosts.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Receiver {
	/** The site name this destination answers to (kept across the swap like every sitelift_ option). */
	public const SITE_NAME_OPTION = 'sitelift_site_name';
	/** Set while an incoming migration may complete: page loads then look for it to fire after_import. */
	public const WATCH_OPTION = 'sitelift_receive_watch';
	/** Id of the last incoming job whose before_import / after_import actions fired. */
	public const BEFORE_FIRED_OPTION = 'sitelift_before_import_fired';
	public const AFTER_FIRED_OPTION  = 'sitelift_after_import_fired';

	public const TTL_DEFAULT = DAY_IN_SECONDS;
	public const TTL_MAX     = 7 * DAY_IN_SECONDS;

	public static function register(): void {
		add_action( 'init', array( self::class, 'watch' ), 20 );
	}

	/** The default site name: a slug of the blog's name. */
	public static function default_site_name(): string {
		$name = sanitize_title( wp_specialchars_decode( (string) get_bloginfo( 'name' ), ENT_QUOTES ) );
		return '' === $name ? 'wordpress' : substr( $name, 0, 64 );
	}

	public static function site_name(): string {
		$name = (string) get_option( self::SITE_NAME_OPTION, '' );
		return '' === $name ? self::default_site_name() : $name;
	}

	/** A site name as the token and the source's admin use it: lower case letters, digits, - _ and dots. */
	public static function sanitize_site_name( string $name ): string {
		$name = strtolower( trim( $name ) );
		$name = (string) preg_replace( '/[^a-z0-9._-]+/', '-', $name );
		return substr( trim( $name, '-.' ), 0, 64 );
	}

	/**
	 * Creates a machine token; the result holds the token string this once.
	 *
	 * @return array|\WP_Error token, fingerprint, url, site_name, expires_at
	 */
	public static function create_token( string $site_name, int $ttl ) {
		$job = self::incoming_job();
		if ( $job && in_array( $job['phase'] ?? '', array( 'receiving', 'finalizing' ), true ) ) {
			return new \WP_Error( 'sitelift_receiving', __( 'A migration into this site is in progress. Wait for it to finish before generating a new token.', 'sitelift' ), array( 'status' => 409 ) );
		}
		try {
			$result = Engine::token_create( $site_name, $ttl );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		}
		update_option( self::SITE_NAME_OPTION, $site_name, false );
		update_option( self::WATCH_OPTION, 1, true );
		return $result;
	}

	/** @return true|\WP_Error */
	public static function revoke_token() {
		try {
			Engine::token_revoke();
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		}
		return true;
	}

	/** The incoming job ([] when none). */
	public static function incoming_job(): array {
		try {
			$info = Engine::token_info();
		} catch ( \SiteLift\Exception $e ) {
			return array();
		}
		return is_array( $info['job'] ?? null ) ? $info['job'] : array();
	}

	/** What the destination screen shows. */
	public static function view(): array {
		$error = '';
		try {
			$info = Engine::token_info();
		} catch ( \SiteLift\Exception $e ) {
			$info  = array();
			$error = $e->getMessage();
		}
		try {
			$import = Engine::import_status();
		} catch ( \SiteLift\Exception $e ) {
			$import = array();
		}
		$job   = is_array( $info['job'] ?? null ) ? $info['job'] : array();
		$token = $info;
		unset( $token['job'] );
		if ( $job ) {
			self::fire_hooks( $job );
		}
		return array(
			'site_name'    => self::site_name(),
			'url'          => Engine::destination_url(),
			'token'        => $token ? $token : null,
			'job'          => $job ? $job : null,
			'import'       => $import ? $import : null,
			'can_rollback' => self::has_backup( $import ),
			'error'        => $error,
		);
	}

	/** Does the last import's record say the previous site was kept? */
	private static function has_backup( array $import ): bool {
		if ( ! $import ) {
			return false;
		}
		foreach ( array( 'backup', 'has_backup', 'can_rollback', 'rollback' ) as $k ) {
			if ( array_key_exists( $k, $import ) ) {
				return (bool) $import[ $k ];
			}
		}
		return 'done' === ( $import['phase'] ?? $import['status'] ?? '' );
	}

	/** @return true|\WP_Error */
	public static function rollback() {
		$job = self::incoming_job();
		if ( $job && in_array( $job['phase'] ?? '', array( 'receiving', 'finalizing' ), true ) ) {
			return new \WP_Error( 'sitelift_receiving', __( 'A migration into this site is in progress.', 'sitelift' ), array( 'status' => 409 ) );
		}
		try {
			Engine::rollback();
		} catch ( \SiteLift\StateException $e ) {
			return new \WP_Error( 'sitelift_state', $e->getMessage(), array( 'status' => 409 ) );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		}
		return true;
	}

	/** @return true|\WP_Error */
	public static function cleanup() {
		try {
			Engine::cleanup();
		} catch ( \SiteLift\StateException $e ) {
			return new \WP_Error( 'sitelift_state', $e->getMessage(), array( 'status' => 409 ) );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		}
		return true;
	}

	// ------------------------------------------------------------------------------------------- hooks for hosts

	/**
	 * On page loads while a migration may come in: notices when the incoming job reaches finalize or done and
	 * fires the import actions once per job.
	 */
	public static function watch(): void {
		if ( ! get_option( self::WATCH_OPTION ) ) {
			return;
		}
		try {
			$info = Engine::token_info();
		} catch ( \SiteLift\Exception $e ) {
			return;
		}
		$job = is_array( $info['job'] ?? null ) ? $info['job'] : array();
		if ( $job ) {
			self::fire_hooks( $job );
		}
		if ( ! $info || ! empty( $info['revoked'] ) || ( ! empty( $info['expired'] ) && ! $job ) ) {
			delete_option( self::WATCH_OPTION );
		}
	}

	/**
	 * Fires `sitelift_before_import` once the job reaches finalize and `sitelift_after_import` once it is
	 * done, each once per job id. The transfer routes call this too, around the finalize request itself, so
	 * the actions run as close to the swap as possible; page loads catch up when they could not.
	 */
	public static function fire_hooks( array $job ): void {
		$id    = (string) ( $job['id'] ?? '' );
		$phase = (string) ( $job['phase'] ?? '' );
		if ( '' === $id ) {
			return;
		}
		if ( in_array( $phase, array( 'finalizing', 'done' ), true ) && get_option( self::BEFORE_FIRED_OPTION ) !== $id ) {
			update_option( self::BEFORE_FIRED_OPTION, $id, false );
			/**
			 * Fires on the destination before an incoming migration replaces this site.
			 *
			 * @param array $job the incoming job (id, phase, source_url, ...).
			 */
			do_action( 'sitelift_before_import', $job );
		}
		if ( 'done' === $phase && get_option( self::AFTER_FIRED_OPTION ) !== $id ) {
			update_option( self::AFTER_FIRED_OPTION, $id, false );
			delete_option( self::WATCH_OPTION );
			// The database is the source's now: a push job or summary it had when it was copied is not ours.
			Runner::forget();
			delete_transient( Preflight::TRANSIENT );
			/**
			 * Fires on the destination after an incoming migration replaced this site (the database and files are
			 * the source's now). Hosts install their must-use plugins here.
			 *
			 * @param array $job the incoming job, with the import report in `result`.
			 */
			do_action( 'sitelift_after_import', $job );
		}
	}
}
