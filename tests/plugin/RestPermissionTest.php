<?php
/**
 * Every admin REST route refuses the wrong caller: nobody logged in, a user without the capability, an
 * administrator without a REST nonce or with a wrong one. And each registered route really carries the
 * plugin's permission check and an args schema.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Admin_Rest;

final class RestPermissionTest extends TestCase {
	/** @return array<string, array{0: string, 1: string, 2: array}> */
	public static function routes(): array {
		$valid = array(
			'site_name' => 'target-site',
			'ttl'       => 3600,
			'token'     => str_repeat( 'A', 64 ),
		);
		$rows  = array();
		foreach ( Admin_Rest::table() as $path => list( $method ) ) {
			$rows[ $method . ' ' . $path ] = array( $method, '/' . Admin_Rest::NS . $path, $valid );
		}
		return $rows;
	}

	public function test_every_admin_route_is_registered_with_the_plugin_permission_check_and_args(): void {
		$routes = rest_get_server()->get_routes();
		$count  = 0;
		foreach ( Admin_Rest::table() as $path => list( $method, , $args ) ) {
			$route = '/' . Admin_Rest::NS . $path;
			$this->assertArrayHasKey( $route, $routes, $route );
			foreach ( $routes[ $route ] as $handler ) {
				$this->assertArrayHasKey( $method, $handler['methods'], $route );
				$this->assertSame( array( Admin_Rest::class, 'permission' ), $handler['permission_callback'], $route );
				$this->assertSame( array_keys( $args ), array_keys( $handler['args'] ), $route );
				++$count;
			}
		}
		$this->assertGreaterThanOrEqual( 12, $count );
		// Nothing else under /admin.
		$ours = array_filter(
			array_keys( $routes ),
			static function ( $r ) {
				return 0 === strpos( $r, '/sitelift/v1/admin' );
			}
		);
		$this->assertCount( count( Admin_Rest::table() ), $ours );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_nobody_logged_in_gets_401( string $method, string $route, array $params ): void {
		$response = $this->rest( $method, $route, $params );
		$this->assertSame( 401, $response->get_status(), $route );
		$this->assertSame( 'rest_not_logged_in', $response->get_data()['code'] );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_an_administrator_without_a_nonce_gets_403( string $method, string $route, array $params ): void {
		$this->login_as( 'administrator' );
		$response = $this->rest( $method, $route, $params );
		$this->assertSame( 403, $response->get_status(), $route );
		$this->assertSame( 'rest_cookie_invalid_nonce', $response->get_data()['code'] );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_an_administrator_with_a_wrong_nonce_gets_403( string $method, string $route, array $params ): void {
		$this->login_as( 'administrator' );
		$other = wp_create_nonce( 'some_other_action' );
		$response = $this->rest( $method, $route, $params, $other );
		$this->assertSame( 403, $response->get_status(), $route );
		// Another user's REST nonce is no good either.
		$this->login_as( 'editor' );
		$editor_nonce = wp_create_nonce( 'wp_rest' );
		$this->login_as( 'administrator' );
		$response = $this->rest( $method, $route, $params, $editor_nonce );
		$this->assertSame( 403, $response->get_status(), $route );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_an_editor_with_a_valid_nonce_gets_403( string $method, string $route, array $params ): void {
		$this->login_as( 'editor' );
		$response = $this->rest( $method, $route, $params, wp_create_nonce( 'wp_rest' ) );
		$this->assertSame( 403, $response->get_status(), $route );
		$this->assertSame( 'rest_forbidden', $response->get_data()['code'] );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_a_subscriber_with_a_valid_nonce_gets_403( string $method, string $route, array $params ): void {
		$this->login_as( 'subscriber' );
		$response = $this->rest( $method, $route, $params, wp_create_nonce( 'wp_rest' ) );
		$this->assertSame( 403, $response->get_status(), $route );
	}

	/**
	 * @dataProvider routes
	 */
	public function test_an_administrator_with_a_valid_nonce_passes_the_check( string $method, string $route, array $params ): void {
		$this->login_as( 'administrator' );
		$request = new \WP_REST_Request( $method, $route );
		$request->set_header( 'X-WP-Nonce', wp_create_nonce( 'wp_rest' ) );
		$this->assertTrue( Admin_Rest::permission( $request ) );
	}

	public function test_read_routes_answer_an_administrator(): void {
		$response = $this->rest_as_admin( 'GET', '/sitelift/v1/admin/receive' );
		$this->assertSame( 200, $response->get_status() );
		$this->assertArrayHasKey( 'site_name', $response->get_data() );
		$response = $this->rest_as_admin( 'GET', '/sitelift/v1/admin/migrate' );
		$this->assertSame( 200, $response->get_status() );
		$this->assertSame( 'none', $response->get_data()['status'] );
		$this->assertSame( 'no-store', $response->get_headers()['Cache-Control'] );
	}

	public function test_args_are_validated(): void {
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'site_name' => 'x' ) );
		$this->assertSame( 400, $response->get_status(), 'token missing' );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'site_name' => 'x', 'token' => 'short' ) );
		$this->assertSame( 400, $response->get_status(), 'token too short' );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'site_name' => 'x', 'token' => str_repeat( 'é', 20 ) ) );
		$this->assertSame( 400, $response->get_status(), 'token not ASCII' );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'site_name' => '***', 'token' => str_repeat( 'A', 40 ) ) );
		$this->assertSame( 400, $response->get_status(), 'site name with nothing usable' );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'ok', 'ttl' => 10 ) );
		$this->assertSame( 400, $response->get_status(), 'ttl below the minimum' );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'ok', 'ttl' => 30 * DAY_IN_SECONDS ) );
		$this->assertSame( 400, $response->get_status(), 'ttl above the maximum' );
	}
}
