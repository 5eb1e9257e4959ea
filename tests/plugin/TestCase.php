<?php
/**
 * Base class of the plugin tests: users of each role, REST requests with or without a nonce, wp_die turned
 * into an exception, and a clean SiteLift state around every test.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Runner;

class Wp_Die extends \RuntimeException {}

abstract class TestCase extends \PHPUnit\Framework\TestCase {
	/** @var array<string, int> role => user id */
	protected static $users = array();

	public static function setUpBeforeClass(): void {
		foreach ( array( 'administrator', 'editor', 'author', 'subscriber' ) as $role ) {
			$login = 'sl_test_' . $role;
			$user  = get_user_by( 'login', $login );
			if ( ! $user ) {
				$id = wp_insert_user(
					array(
						'user_login' => $login,
						'user_pass'  => wp_generate_password( 24 ),
						'user_email' => $login . '@example.test',
						'role'       => $role,
					)
				);
				if ( is_wp_error( $id ) ) {
					throw new \RuntimeException( $id->get_error_message() );
				}
				$user = get_user_by( 'id', $id );
			}
			self::$users[ $role ] = (int) $user->ID;
		}
	}

	protected function setUp(): void {
		parent::setUp();
		wp_set_current_user( 0 );
		self::reset_sitelift();
		add_filter( 'wp_die_handler', array( $this, 'die_handler' ) );
	}

	protected function tearDown(): void {
		remove_filter( 'wp_die_handler', array( $this, 'die_handler' ) );
		wp_set_current_user( 0 );
		self::reset_sitelift();
		parent::tearDown();
	}

	public function die_handler(): callable {
		return static function ( $message, $title = '', $args = array() ) {
			$status = is_array( $args ) && isset( $args['response'] ) ? (int) $args['response'] : ( is_int( $args ) ? $args : 500 );
			throw new Wp_Die( is_wp_error( $message ) ? $message->get_error_message() : (string) $message, $status );
		};
	}

	/** No job, lock, token or cron event of an earlier test. */
	protected static function reset_sitelift(): void {
		global $wpdb;
		try {
			\SiteLift\push_cancel( untrailingslashit( ABSPATH ) );
		} catch ( \Throwable $e ) { // phpcs:ignore Generic.CodeAnalysis.EmptyStatement.DetectedCatch
		}
		Runner::forget();
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'sitelift\\_%' OR option_name LIKE '\\_transient\\_%sitelift\\_%'" );
		wp_cache_flush();
	}

	protected function login_as( string $role ): int {
		wp_set_current_user( self::$users[ $role ] );
		return self::$users[ $role ];
	}

	/**
	 * Dispatches a REST request through the real server.
	 *
	 * @param string|null $nonce null: no nonce header at all
	 */
	protected function rest( string $method, string $route, array $params = array(), ?string $nonce = null ): \WP_REST_Response {
		$request = new \WP_REST_Request( $method, $route );
		if ( null !== $nonce ) {
			$request->set_header( 'X-WP-Nonce', $nonce );
		}
		if ( 'GET' === $method ) {
			$request->set_query_params( $params );
		} else {
			$request->set_body_params( $params );
		}
		return rest_do_request( $request );
	}

	protected function rest_as_admin( string $method, string $route, array $params = array() ): \WP_REST_Response {
		$this->login_as( 'administrator' );
		return $this->rest( $method, $route, $params, wp_create_nonce( 'wp_rest' ) );
	}

	/** One line of PHP run in a separate process inside the test WordPress; returns [exit code, output]. */
	protected static function php_in_wordpress( string $code, bool $with_extension = true ): array {
		$repo = getenv( 'SITELIFT_REPO' );
		$args = array( PHP_BINARY, '-d', 'display_errors=stderr' );
		if ( $with_extension ) {
			$args[] = '-d';
			$args[] = 'extension=' . $repo . '/modules/sitelift.so';
		}
		if ( getenv( 'SITELIFT_TEST_PRELOAD' ) && $with_extension ) {
			$args[] = '-d';
			$args[] = 'auto_prepend_file=' . getenv( 'SITELIFT_TEST_PRELOAD' );
		}
		$args = array_merge(
			$args,
			array(
				$repo . '/scripts/lib/wp-eval.php',
				'--root=' . getenv( 'SITELIFT_PLUGIN_TEST_ROOT' ),
				'--url=' . getenv( 'SITELIFT_PLUGIN_TEST_URL' ),
				'--code=' . $code,
			)
		);
		$proc = proc_open( $args, array( 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes );
		$out  = stream_get_contents( $pipes[1] );
		$err  = stream_get_contents( $pipes[2] );
		fclose( $pipes[1] );
		fclose( $pipes[2] );
		return array( proc_close( $proc ), $out . $err );
	}
}
