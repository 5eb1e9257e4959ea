<?php
/**
 * The transfer routes (what a source's push talks to) let through only requests signed with this site's machine
 * token: not a visitor, not a logged-in administrator with a valid REST nonce, not a request signed with another
 * key. A correctly signed request passes the permission check and reaches the engine.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Transfer_Routes;

final class TransferRoutesTest extends TestCase {
	private const JOB = '0123456789abcdef0123456789abcdef';

	/** @return array<string, array{0: string, 1: string, 2: string}> method, route, body */
	public static function routes(): array {
		$hello = json_encode( array( 'job' => self::JOB, 'site_name' => 'target-site' ) );
		return array(
			'handshake' => array( 'POST', '/sitelift/v1/jobs', $hello ),
			'status'    => array( 'GET', '/sitelift/v1/jobs/' . self::JOB, '' ),
			'part'      => array( 'PUT', '/sitelift/v1/jobs/' . self::JOB . '/parts/0', 'sealed bytes' ),
			'finalize'  => array( 'POST', '/sitelift/v1/jobs/' . self::JOB . '/finalize', '{}' ),
		);
	}

	private static function b64url_decode( string $s ): string {
		return (string) base64_decode( strtr( $s, '-_', '+/' ) );
	}

	/** A request for $route as the source sends it, signed with $secret (the request-target is what was signed). */
	private function request( string $method, string $route, string $body, ?array $key ): \WP_REST_Request {
		$target                 = '/index.php?rest_route=' . $route;
		$_SERVER['REQUEST_URI'] = $target;
		$request                = new \WP_REST_Request( $method, $route );
		$request->set_body( $body );
		if ( '' !== $body && '{' === $body[0] ) {
			$request->set_header( 'Content-Type', 'application/json' );
		}
		if ( null !== $key ) {
			list( $id, $secret ) = $key;
			$mac                 = hash_hkdf( 'sha256', $secret, 32, 'sitelift v1 request mac', $id );
			$ts                  = (string) time();
			$nonce               = bin2hex( random_bytes( 16 ) );
			$canonical           = "sitelift-v1-request\n$method\n$target\n$ts\n$nonce\n" . hash( 'sha256', $body );
			$request->set_header( 'X-SiteLift-Token', $id );
			$request->set_header( 'X-SiteLift-Timestamp', $ts );
			$request->set_header( 'X-SiteLift-Nonce', $nonce );
			$request->set_header( 'X-SiteLift-Signature', hash_hmac( 'sha256', $canonical, $mac ) );
		}
		return $request;
	}

	/** A fresh machine token of this site: [token id, secret]. */
	private function token(): array {
		$site = array_intersect_key( Transfer_Routes::site(), array_flip( array( 'path', 'db', 'table_prefix' ) ) );
		$made = \SiteLift\token_create(
			$site,
			array( 'url' => home_url(), 'site_name' => 'target-site', 'ttl' => 600 )
		);
		list( , $payload, $secret ) = explode( '.', $made['token'] );
		return array( json_decode( self::b64url_decode( $payload ), true )['i'], self::b64url_decode( $secret ) );
	}

	protected function tearDown(): void {
		unset( $_SERVER['REQUEST_URI'] );
		@unlink( Transfer_Routes::site()['path'] . '/.sitelift/guard.json' ); // failures counted by these tests
		parent::tearDown();
	}

	public function test_every_transfer_route_has_the_signature_check_and_an_args_schema(): void {
		$routes = rest_get_server()->get_routes();
		$found  = 0;
		foreach ( $routes as $path => $handlers ) {
			if ( 0 !== strpos( $path, '/sitelift/v1/jobs' ) ) {
				continue;
			}
			foreach ( $handlers as $handler ) {
				++$found;
				$this->assertSame( array( Transfer_Routes::class, 'permission' ), $handler['permission_callback'], $path );
				$this->assertIsArray( $handler['args'], $path );
			}
		}
		$this->assertSame( 4, $found );
	}

	/** @dataProvider routes */
	public function test_a_visitor_is_refused( string $method, string $route, string $body ): void {
		wp_set_current_user( 0 );
		$response = rest_do_request( $this->request( $method, $route, $body, null ) );
		$this->assertSame( 401, $response->get_status() );
		$this->assertSame( 'sitelift_unsigned', $response->get_data()['code'] );
	}

	/** @dataProvider routes */
	public function test_an_administrator_with_a_valid_nonce_is_refused( string $method, string $route, string $body ): void {
		$this->login_as( 'administrator' );
		$request = $this->request( $method, $route, $body, null );
		$request->set_header( 'X-WP-Nonce', wp_create_nonce( 'wp_rest' ) );
		$response = rest_do_request( $request );
		$this->assertSame( 401, $response->get_status() );
	}

	/** @dataProvider routes */
	public function test_another_key_is_refused( string $method, string $route, string $body ): void {
		list( $id ) = $this->token();
		$response   = rest_do_request( $this->request( $method, $route, $body, array( $id, random_bytes( 32 ) ) ) );
		$this->assertSame( 401, $response->get_status() );
		$this->assertSame( 'sitelift_bad_signature', $response->get_data()['code'] );
	}

	/** @dataProvider routes */
	public function test_the_machine_token_gets_through( string $method, string $route, string $body ): void {
		$key      = $this->token();
		$response = rest_do_request( $this->request( $method, $route, $body, $key ) );
		$this->assertNotContains( $response->get_status(), array( 401, 403, 429 ), wp_json_encode( $response->get_data() ) );
		$this->assertStringStartsWith( 'sitelift_', (string) $response->get_data()['code'] );
	}

	public function test_the_handshake_names_the_direct_endpoint_for_parts(): void {
		$key      = $this->token();
		$hello    = json_encode( array( 'job' => self::JOB, 'site_name' => 'target-site' ) );
		$response = rest_do_request( $this->request( 'POST', '/sitelift/v1/jobs', $hello, $key ) );
		$this->assertSame( 200, $response->get_status(), wp_json_encode( $response->get_data() ) );
		$path = $response->get_data()['parts_path'] ?? null;
		$this->assertIsString( $path );
		$this->assertStringEndsWith( '/transfer.php', $path );
		$this->assertFileExists( ABSPATH . $path, 'the named file is the plugin\'s transfer.php below the site root' );
		$this->assertSame( home_url( '/' . $path ), plugins_url( 'transfer.php', WP_PLUGIN_DIR . '/sitelift/sitelift.php' ) );
	}

	public function test_no_direct_endpoint_when_plugins_are_served_from_elsewhere(): void {
		$elsewhere = static function ( string $url ): string {
			return str_replace( home_url(), 'https://cdn.example.test', $url );
		};
		add_filter( 'plugins_url', $elsewhere );
		try {
			$this->assertNull( Transfer_Routes::direct_path() );
		} finally {
			remove_filter( 'plugins_url', $elsewhere );
		}
		$this->assertSame( 'wp-content/plugins/sitelift/transfer.php', Transfer_Routes::direct_path() );
	}
}
