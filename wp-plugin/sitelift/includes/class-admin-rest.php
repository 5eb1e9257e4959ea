<?php
/**
 * The REST routes behind the admin screens (namespace sitelift/v1, under /admin/). Each declares its args
 * schema and the same explicit permission check: a logged-in user with the SiteLift capability whose request
 * carries a valid REST nonce (X-WP-Nonce). The machine-token routes of the transfer itself live elsewhere.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Admin_Rest {
	public const NS = 'sitelift/v1';

	public static function register(): void {
		add_action( 'rest_api_init', array( self::class, 'routes' ) );
	}

	/**
	 * The routes: path => [methods, callback, args].
	 *
	 * @return array<string, array{0: string, 1: callable, 2: array}>
	 */
	public static function table(): array {
		$site_name = array(
			'type'              => 'string',
			'required'          => true,
			'minLength'         => 1,
			'maxLength'         => 64,
			'description'       => __( 'The destination\'s site name.', 'sitelift' ),
			'sanitize_callback' => array( self::class, 'sanitize_site_name' ),
			'validate_callback' => array( self::class, 'validate_site_name' ),
		);
		$token     = array(
			'type'              => 'string',
			'required'          => true,
			'minLength'         => 16,
			'maxLength'         => 4096,
			'description'       => __( 'The machine token generated on the destination.', 'sitelift' ),
			'sanitize_callback' => array( self::class, 'sanitize_token' ),
			'validate_callback' => array( self::class, 'validate_token' ),
		);
		return array(
			'/admin/receive'           => array( 'GET', array( self::class, 'receive_view' ), array() ),
			'/admin/receive/token'     => array(
				'POST',
				array( self::class, 'token_create' ),
				array(
					'site_name' => $site_name,
					'ttl'       => array(
						'type'        => 'integer',
						'default'     => Receiver::TTL_DEFAULT,
						'minimum'     => 5 * MINUTE_IN_SECONDS,
						'maximum'     => Receiver::TTL_MAX,
						'description' => __( 'Seconds until the token expires.', 'sitelift' ),
					),
				),
			),
			'/admin/receive/revoke'    => array( 'POST', array( self::class, 'token_revoke' ), array() ),
			'/admin/receive/rollback'  => array( 'POST', array( self::class, 'rollback' ), array() ),
			'/admin/receive/cleanup'   => array( 'POST', array( self::class, 'cleanup' ), array() ),
			'/admin/migrate'           => array( 'GET', array( self::class, 'migrate_view' ), array() ),
			'/admin/migrate/preflight' => array(
				'GET',
				array( self::class, 'preflight' ),
				array(
					'fresh' => array(
						'type'        => 'boolean',
						'default'     => false,
						'description' => __( 'Measure again instead of using the last summary.', 'sitelift' ),
					),
				),
			),
			'/admin/migrate/start'     => array(
				'POST',
				array( self::class, 'start' ),
				array(
					'token'     => $token,
					'site_name' => $site_name,
				),
			),
			'/admin/migrate/step'      => array( 'POST', array( self::class, 'step' ), array() ),
			'/admin/migrate/resume'    => array(
				'POST',
				array( self::class, 'resume' ),
				array(
					'token' => array_merge(
						$token,
						array(
							'required'          => false,
							'minLength'         => 0,
							'default'           => '',
							'validate_callback' => array( self::class, 'validate_optional_token' ),
						)
					),
				),
			),
			'/admin/migrate/cancel'    => array( 'POST', array( self::class, 'cancel' ), array() ),
			'/admin/migrate/log'       => array( 'GET', array( self::class, 'log' ), array() ),
		);
	}

	public static function routes(): void {
		foreach ( self::table() as $path => list( $methods, $callback, $args ) ) {
			register_rest_route(
				self::NS,
				$path,
				array(
					'methods'             => $methods,
					'callback'            => $callback,
					'permission_callback' => array( self::class, 'permission' ),
					'args'                => $args,
				)
			);
		}
	}

	/**
	 * Logged in, a valid REST nonce, and the capability. Anything else is refused with 401 or 403.
	 *
	 * @return true|\WP_Error
	 */
	public static function permission( \WP_REST_Request $request ) {
		if ( ! is_user_logged_in() ) {
			return new \WP_Error( 'rest_not_logged_in', __( 'You need to be logged in.', 'sitelift' ), array( 'status' => 401 ) );
		}
		$nonce = (string) $request->get_header( 'X-WP-Nonce' );
		if ( '' === $nonce || false === wp_verify_nonce( $nonce, 'wp_rest' ) ) {
			return new \WP_Error( 'rest_cookie_invalid_nonce', __( 'The page has expired. Reload it and try again.', 'sitelift' ), array( 'status' => 403 ) );
		}
		if ( ! current_user_can( Plugin::capability() ) ) {
			return new \WP_Error( 'rest_forbidden', __( 'Sorry, you are not allowed to use SiteLift.', 'sitelift' ), array( 'status' => rest_authorization_required_code() ) );
		}
		return true;
	}

	// ------------------------------------------------------------------------------------------- args

	public static function sanitize_site_name( $value ): string {
		return Receiver::sanitize_site_name( (string) $value );
	}

	/** @return true|\WP_Error */
	public static function validate_site_name( $value ) {
		if ( ! is_string( $value ) || '' === Receiver::sanitize_site_name( $value ) ) {
			return new \WP_Error( 'rest_invalid_param', __( 'Enter the destination\'s site name.', 'sitelift' ), array( 'status' => 400 ) );
		}
		return true;
	}

	/** A token as pasted: white space (line breaks from copying) removed, nothing else changed. */
	public static function sanitize_token( $value ): string {
		return (string) preg_replace( '/\s+/', '', (string) $value );
	}

	/** @return true|\WP_Error */
	public static function validate_token( $value ) {
		$token = self::sanitize_token( is_string( $value ) ? $value : '' );
		if ( strlen( $token ) < 16 || strlen( $token ) > 4096 || ! preg_match( '/^[\x21-\x7e]+$/', $token ) ) {
			return new \WP_Error( 'rest_invalid_param', __( 'This is not a SiteLift machine token. Copy it again from the destination\'s SiteLift screen.', 'sitelift' ), array( 'status' => 400 ) );
		}
		return true;
	}

	/** @return true|\WP_Error an empty token (keep the stored one) or a valid one */
	public static function validate_optional_token( $value ) {
		if ( is_string( $value ) && '' === trim( $value ) ) {
			return true;
		}
		return self::validate_token( $value );
	}

	// ------------------------------------------------------------------------------------------- callbacks

	private static function respond( $result ) {
		if ( is_wp_error( $result ) ) {
			return $result;
		}
		$response = rest_ensure_response( $result );
		$response->header( 'Cache-Control', 'no-store' );
		return $response;
	}

	public static function receive_view() {
		return self::respond( Receiver::view() );
	}

	public static function token_create( \WP_REST_Request $request ) {
		$result = Receiver::create_token( (string) $request['site_name'], (int) $request['ttl'] );
		if ( is_wp_error( $result ) ) {
			return $result;
		}
		return self::respond(
			array(
				'token'      => (string) $result['token'],
				'expires_at' => (int) ( $result['expires_at'] ?? 0 ),
				'site_name'  => (string) ( $result['site_name'] ?? $request['site_name'] ),
				'url'        => (string) ( $result['url'] ?? Engine::destination_url() ),
				'view'       => Receiver::view(),
			)
		);
	}

	public static function token_revoke() {
		$result = Receiver::revoke_token();
		return self::respond( is_wp_error( $result ) ? $result : Receiver::view() );
	}

	public static function rollback() {
		$result = Receiver::rollback();
		return self::respond( is_wp_error( $result ) ? $result : Receiver::view() );
	}

	public static function cleanup() {
		$result = Receiver::cleanup();
		return self::respond( is_wp_error( $result ) ? $result : Receiver::view() );
	}

	/** The source screen's state, with the warnings that need the destination's answer. */
	public static function migrate_view() {
		$view                         = Runner::view();
		$view['destination_warnings'] = Preflight::destination_warnings( Preflight::summary(), $view['state'] );
		return self::respond( $view );
	}

	public static function preflight( \WP_REST_Request $request ) {
		return self::respond( Preflight::summary( (bool) $request['fresh'] ) );
	}

	public static function start( \WP_REST_Request $request ) {
		return self::respond( Runner::start( (string) $request['token'], (string) $request['site_name'], get_current_user_id() ) );
	}

	public static function step() {
		if ( function_exists( 'set_time_limit' ) ) {
			@set_time_limit( (int) Runner::step_seconds() + 20 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		}
		ignore_user_abort( true ); // a closed tab must not cut a step in half
		$result = Runner::step( Runner::step_seconds(), 'page' );
		if ( is_array( $result ) ) {
			$result['destination_warnings'] = Preflight::destination_warnings( Preflight::summary(), $result['state'] );
		}
		return self::respond( $result );
	}

	public static function resume( \WP_REST_Request $request ) {
		return self::respond( Runner::resume( (string) $request['token'] ) );
	}

	public static function cancel() {
		return self::respond( Runner::cancel() );
	}

	public static function log() {
		return self::respond( array( 'log' => Runner::log_text() ) );
	}
}
