<?php
/**
 * The one place where the plugin talks to the sitelift extension: every call into the SiteLift\ functions
 * goes through here, with the options built the same way for the admin screens, the REST routes and WP-Cron.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

require_once __DIR__ . '/class-site-config.php';

final class Engine {
	/** This site's root folder, without a trailing slash. */
	public static function root(): string {
		return untrailingslashit( ABSPATH );
	}

	/**
	 * The folders of this site's content (wp-content, plugins, uploads) that lie outside its root folder,
	 * which is all a migration moves: moving the site without them would lose its themes, plugins or media.
	 *
	 * @return string[] the folders, as WordPress names them
	 */
	public static function content_outside_root(): array {
		$uploads = wp_upload_dir( null, false );
		$outside = array();
		foreach ( array( WP_CONTENT_DIR, WP_PLUGIN_DIR, (string) ( $uploads['basedir'] ?? '' ) ) as $dir ) {
			if ( '' !== $dir && ! Site_Config::inside( $dir, self::root() ) && ! in_array( $dir, $outside, true ) ) {
				$outside[] = $dir;
			}
		}
		return $outside;
	}

	/**
	 * The refusal of a site whose content lies outside its root (see content_outside_root()), or null.
	 *
	 * @param string $text translated message with %1$s for the folders and %2$s for the root
	 */
	public static function content_outside_error( string $text ): ?\WP_Error {
		$outside = self::content_outside_root();
		if ( ! $outside ) {
			return null;
		}
		return new \WP_Error( 'sitelift_content_outside', sprintf( $text, implode( ', ', $outside ), self::root() ), array( 'status' => 409 ) );
	}

	/**
	 * This site as the engine sees it: root, database settings, table prefix (the network's base prefix on
	 * multisite: a network moves whole, and only to its own address).
	 *
	 * @return array{path: string, db: array{host: string, user: string, password: string, name: string}, table_prefix: string}
	 */
	public static function site(): array {
		global $wpdb;
		return array(
			'path'         => self::root(),
			'db'           => array(
				'host'     => (string) DB_HOST,
				'user'     => (string) DB_USER,
				'password' => (string) DB_PASSWORD,
				'name'     => (string) DB_NAME,
			),
			'table_prefix' => (string) $wpdb->base_prefix,
		);
	}

	/**
	 * The options of one push step. The token is only ever held in memory here and handed to the engine.
	 *
	 * @param string $token     machine token of the destination.
	 * @param string $site_name the destination's site name, as typed by the admin.
	 * @param bool   $restart   forget an earlier, unfinished job first.
	 */
	public static function push_options( string $token, string $site_name, bool $restart = false ): array {
		$options = self::site() + array(
			'token'      => $token,
			'site_name'  => $site_name,
			'exclude'    => self::excludes(),
			'wp_version' => (string) get_bloginfo( 'version' ),
			'charset'    => defined( 'DB_CHARSET' ) ? (string) DB_CHARSET : '',
			'collate'    => defined( 'DB_COLLATE' ) ? (string) DB_COLLATE : '',
			'multisite'  => is_multisite(),
		);
		if ( $restart ) {
			$options['restart'] = true;
		}
		return $options;
	}

	/**
	 * Extra exclusions for the push, as globs relative to the site root (`wp-content/cache/*`). Hosts and other
	 * plugins add theirs with the `sitelift_excludes` filter; anything that is not a non-empty string is dropped.
	 *
	 * @return string[]
	 */
	public static function excludes(): array {
		/**
		 * Filters the paths left out of a push from this site, as globs relative to the WordPress root.
		 *
		 * @param string[] $excludes Globs such as `wp-content/uploads/big-videos/*`.
		 */
		$excludes = apply_filters( 'sitelift_excludes', array() );
		if ( ! is_array( $excludes ) ) {
			return array();
		}
		$clean = array();
		foreach ( $excludes as $glob ) {
			if ( is_string( $glob ) ) {
				$glob = trim( str_replace( "\0", '', $glob ) );
				if ( '' !== $glob ) {
					$clean[] = $glob;
				}
			}
		}
		return array_values( array_unique( $clean ) );
	}

	public static function version(): string {
		return \SiteLift\version();
	}

	/**
	 * Creates the destination's machine token. The result holds the token string this once.
	 *
	 * @return array token, fingerprint, url, site_name, expires_at
	 */
	public static function token_create( string $site_name, int $ttl ): array {
		return \SiteLift\token_create(
			self::site(),
			array(
				'url'       => self::destination_url(),
				'site_name' => $site_name,
				'ttl'       => $ttl,
			)
		);
	}

	public static function token_revoke(): void {
		\SiteLift\token_revoke( self::site() );
	}

	/** What the destination knows of its token and of the job it receives ([] when there is no token). */
	public static function token_info(): array {
		return \SiteLift\token_info( self::site() );
	}

	/** The state of the last import into this site ([] when there is none). */
	public static function import_status(): array {
		return \SiteLift\status( self::root() );
	}

	public static function rollback(): void {
		\SiteLift\rollback( self::site() );
	}

	public static function cleanup(): void {
		\SiteLift\cleanup( self::site() );
	}

	/** Advances the push by about $seconds and returns its state. */
	public static function push_step( array $options, float $seconds ): array {
		return \SiteLift\push_step( $options, $seconds );
	}

	/** The state of the push from this site ([] when there is none). */
	public static function push_status(): array {
		return \SiteLift\push_status( self::root() );
	}

	public static function push_cancel(): void {
		\SiteLift\push_cancel( self::root() );
	}

	/** The URL a source reaches this site at: its home (the network's main site on multisite). */
	public static function destination_url(): string {
		return untrailingslashit( is_multisite() ? network_home_url() : home_url() );
	}
}
