<?php
/**
 * The REST routes a source's push talks to (namespace sitelift/v1, under /jobs). Each request is signed with the
 * machine token; the permission callback lets only a correctly signed, fresh, unreplayed request through, and the
 * extension does the work. WordPress concerns only: routing, the site's settings, hooks.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

final class Transfer_Routes {
	private const JOB = '(?P<job>[0-9a-f]{32})';

	/** @var \WP_REST_Request|null The request the permission check looked at last ... */
	private static $checked = null;
	/** @var true|\WP_Error ... and what it said (a refusal must not count twice). */
	private static $verdict = true;

	public static function register(): void {
		add_action( 'rest_api_init', array( self::class, 'routes' ) );
	}

	public static function routes(): void {
		$job_arg   = array(
			'type'     => 'string',
			'pattern'  => '^[0-9a-f]{32}$',
			'required' => true,
		);
		$common    = array(
			'callback'            => array( self::class, 'handle' ),
			'permission_callback' => array( self::class, 'permission' ),
		);
		register_rest_route(
			'sitelift/v1',
			'/jobs',
			array(
				'methods' => 'POST',
				// The handshake's JSON body; the extension checks it again, after the signature.
				'args'    => array(
					'job'       => array(
						'type'     => 'string',
						'pattern'  => '^[0-9a-f]{32}$',
						'required' => true,
					),
					'site_name' => array(
						'type'      => 'string',
						'maxLength' => 1024,
						'required'  => true,
					),
					'source'    => array(
						'type' => 'object',
					),
				),
			) + $common
		);
		register_rest_route(
			'sitelift/v1',
			'/jobs/' . self::JOB,
			array( 'methods' => 'GET', 'args' => array( 'job' => $job_arg ) ) + $common
		);
		register_rest_route(
			'sitelift/v1',
			'/jobs/' . self::JOB . '/parts/(?P<index>[0-9]{1,12})',
			array(
				'methods' => 'PUT',
				'args'    => array(
					'job'   => $job_arg,
					'index' => array(
						'type'     => 'string',
						'pattern'  => '^[0-9]{1,12}$',
						'required' => true,
					),
				),
			) + $common
		);
		register_rest_route(
			'sitelift/v1',
			'/jobs/' . self::JOB . '/finalize',
			array( 'methods' => 'POST', 'args' => array( 'job' => $job_arg ) ) + $common
		);
	}

	/**
	 * What the extension needs to know about this site (the destination).
	 *
	 * @return array<string, mixed>
	 */
	public static function site(): array {
		global $wpdb;
		return self::site_basics() + array(
			'url'    => untrailingslashit( home_url() ),
			'limits' => array(
				'max_body'           => self::max_body(),
				'max_execution_time' => (int) ini_get( 'max_execution_time' ),
				'memory_limit'       => (string) ini_get( 'memory_limit' ),
				'php_version'        => PHP_VERSION,
				'wp_version'         => get_bloginfo( 'version' ),
				'db_server'          => (string) $wpdb->db_server_info(),
			),
		);
	}

	/**
	 * What receiving a part needs of the site, from what WordPress offers even when loaded with SHORTINIT
	 * (transfer.php): no link or template functions.
	 *
	 * @return array<string, mixed>
	 */
	public static function site_basics(): array {
		return Engine::site() + array( 'keep' => self::own_folder() );
	}

	/**
	 * Where the source may send parts directly (transfer.php), as a path below the site's home URL; null when
	 * the plugin is served from elsewhere (another host or scheme), where the REST route must do.
	 */
	public static function direct_path(): ?string {
		$home   = untrailingslashit( home_url() ) . '/';
		$direct = plugins_url( 'transfer.php', dirname( __DIR__ ) . '/sitelift.php' );
		if ( ! str_starts_with( $direct, $home ) ) {
			return null;
		}
		$path = substr( $direct, strlen( $home ) );
		return 1 === preg_match( '#^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*\.php$#', $path ) && ! str_contains( $path, '..' ) ? $path : null;
	}

	/**
	 * This plugin's folder relative to the site root, so the swap keeps the destination's own copy of SiteLift
	 * (the source may have none, or another version).
	 *
	 * @return string[]
	 */
	private static function own_folder(): array {
		$root = trailingslashit( wp_normalize_path( ABSPATH ) );
		$mine = wp_normalize_path( dirname( __DIR__ ) );
		return str_starts_with( $mine, $root ) ? array( substr( $mine, strlen( $root ) ) ) : array();
	}

	/** The largest request body PHP accepts here (the web server may allow less; the source adapts to 413). */
	private static function max_body(): int {
		$post = wp_convert_hr_to_bytes( (string) ini_get( 'post_max_size' ) );
		return $post > 0 ? $post : 8 * MB_IN_BYTES;
	}

	/**
	 * The request as it came over the wire: the signature covers the exact request-target.
	 *
	 * @return array{0: string, 1: string, 2: array, 3: string}
	 */
	private static function wire( \WP_REST_Request $request ): array {
		$target = isset( $_SERVER['REQUEST_URI'] ) ? (string) wp_unslash( $_SERVER['REQUEST_URI'] ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- compared byte for byte by the signature check.
		return array( $request->get_method(), $target, $request->get_headers(), (string) $request->get_body() );
	}

	/**
	 * Only a request signed with this site's machine token, fresh and not seen before, gets through.
	 *
	 * @return true|\WP_Error
	 */
	public static function permission( \WP_REST_Request $request ) {
		// WordPress asks again after the callback ran (to build the Allow header), when the nonce is already
		// spent: the same request gets the same answer, and a refusal is counted once.
		if ( self::$checked === $request ) {
			return self::$verdict;
		}
		list( $method, $target, $headers, $body ) = self::wire( $request );
		try {
			$refused = \SiteLift\receive_authenticate( self::site(), $method, $target, $headers, $body );
		} catch ( \SiteLift\Exception $e ) {
			return new \WP_Error( 'sitelift_unavailable', __( 'SiteLift cannot check the request right now.', 'sitelift' ), array( 'status' => 503 ) );
		}
		self::$checked = $request;
		self::$verdict = null === $refused ? true : new \WP_Error( (string) ( $refused['body']['code'] ?? 'sitelift_refused' ), (string) ( $refused['body']['message'] ?? '' ), array( 'status' => (int) $refused['status'] ) );
		return self::$verdict;
	}

	/**
	 * The source's database may not list SiteLift among its active plugins; the destination keeps it active so
	 * its admin can still see the report, roll back or delete the backup.
	 */
	private static function stay_active(): void {
		$basename = plugin_basename( dirname( __DIR__ ) . '/sitelift.php' );
		if ( is_multisite() ) {
			$network = (array) get_site_option( 'active_sitewide_plugins', array() );
			if ( ! isset( $network[ $basename ] ) ) {
				$network[ $basename ] = time();
				update_site_option( 'active_sitewide_plugins', $network );
			}
			return;
		}
		$active = (array) get_option( 'active_plugins', array() );
		if ( ! in_array( $basename, $active, true ) ) {
			$active[] = $basename;
			sort( $active );
			update_option( 'active_plugins', $active );
		}
	}

	/**
	 * The extension's answer to a request ({status, body}); when the extension cannot work (its database is
	 * down, say), a 503 the source retries. Also used by transfer.php.
	 *
	 * @param array<string, mixed> $site    What the extension needs of this site.
	 * @param array<string, mixed> $headers The request's headers.
	 * @param string|resource      $body    The body, or a stream the extension reads it from (transfer.php).
	 * @return array{status: int, body: array}
	 */
	public static function receive( array $site, string $method, string $target, array $headers, $body ): array {
		try {
			return \SiteLift\receive( $site, $method, $target, $headers, $body );
		} catch ( \SiteLift\Exception $e ) {
			return array(
				'status' => 503,
				'body'   => array(
					'code'    => 'sitelift_unavailable',
					'message' => $e->getMessage(),
				),
			);
		}
	}

	public static function handle( \WP_REST_Request $request ): \WP_REST_Response {
		list( $method, $target, $headers, $body ) = self::wire( $request );
		$finalize = 'POST' === $method && str_ends_with( $request->get_route(), '/finalize' );
		if ( $finalize ) {
			/**
			 * Fires on the destination just before a pushed site is verified and swapped in.
			 *
			 * @param string $job The migration's id.
			 */
			do_action( 'sitelift_before_import', (string) $request['job'] );
		}
		$answer = self::receive( self::site(), $method, $target, $headers, $body );
		if ( 'POST' === $method && '/sitelift/v1/jobs' === $request->get_route() && 200 === $answer['status'] ) {
			// The handshake: parts may skip the REST API (and most of WordPress) through transfer.php.
			$direct = self::direct_path();
			if ( null !== $direct ) {
				$answer['body']['parts_path'] = $direct;
			}
		}
		if ( $finalize && 200 === $answer['status'] && 'done' === ( $answer['body']['phase'] ?? '' ) ) {
			// The database is the source's now: WordPress's caches of the old one are stale.
			wp_cache_flush();
			self::stay_active();
			/**
			 * Fires on the destination after a pushed site was swapped in (e.g. to install a must-use plugin).
			 *
			 * @param array $result The import report.
			 */
			do_action( 'sitelift_after_import', (array) ( $answer['body']['result'] ?? array() ) );
		}
		$response = new \WP_REST_Response( $answer['body'], $answer['status'] );
		$response->header( 'Cache-Control', 'no-store' );
		return $response;
	}
}
