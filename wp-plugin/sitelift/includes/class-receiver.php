<?php
/**
 * The destination's side of the admin screens: its site name, the machine token (created, shown once,
 * revoked), the incoming migration's status, and roll back / delete backup after one completed. (The
 * `sitelift_before_import` / `sitelift_after_import` actions fire in the transfer routes, around the finalize.)
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

	public const TTL_DEFAULT = DAY_IN_SECONDS;
	public const TTL_MAX     = 7 * DAY_IN_SECONDS;

	public static function register(): void {
		add_action( 'sitelift_after_import', array( self::class, 'after_import' ), 0 );
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
		$refused = Engine::content_outside_error(
			/* translators: 1: folder names, 2: the WordPress folder. */
			__( 'This site keeps %1$s outside its WordPress folder (%2$s). A migration replaces that folder only, so the site would go on using those and not the migrated ones: no token was made.', 'sitelift' )
		);
		if ( $refused ) {
			return $refused;
		}
		try {
			$result = Engine::token_create( $site_name, $ttl );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_engine', $e->getMessage(), array( 'status' => 500 ) );
		}
		update_option( self::SITE_NAME_OPTION, $site_name, false );
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
		return array(
			'site_name'    => self::site_name(),
			'url'          => Engine::destination_url(),
			'token'        => $token ? $token : null,
			'job'          => $job ? $job : null,
			'import'       => self::import_summary( $import ),
			'can_rollback' => self::has_backup( $import ),
			'error'        => $error,
		);
	}

	/** The previous site is kept (as sl_bak_ tables and .sitelift/backup) only while the import is "swapped". */
	private static function has_backup( array $import ): bool {
		return 'swapped' === ( $import['phase'] ?? '' );
	}

	/** The last import's record in a few facts (its full journal lists every table and top-level entry). */
	private static function import_summary( array $import ): ?array {
		if ( ! $import || empty( $import['phase'] ) ) {
			return null;
		}
		return array(
			'source_url'      => (string) ( $import['source_url'] ?? '' ),
			'destination_url' => (string) ( $import['destination_url'] ?? '' ),
			'finished_at'     => (int) ( $import['finished'] ?? 0 ),
			'tables_replaced' => is_array( $import['tables'] ?? null ) ? count( $import['tables'] ) : 0,
			'entries'         => is_array( $import['files'] ?? null ) ? count( $import['files'] ) : 0,
			'backup'          => self::has_backup( $import ),
		);
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

	// ------------------------------------------------------------------------------------------- after an import

	/**
	 * `sitelift_after_import` (fired by the transfer routes right after the swap): the database is the source's
	 * now, so a push job, its schedule or a pre-flight summary that came with it are not this site's.
	 */
	public static function after_import(): void {
		Runner::forget();
		delete_transient( Preflight::TRANSIENT );
	}
}
