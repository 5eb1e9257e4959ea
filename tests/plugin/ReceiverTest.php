<?php
/**
 * The destination's screen through its REST routes: the site name, a token shown once and never stored,
 * revoking it, and what the plugin does after an import.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Receiver;

final class ReceiverTest extends TestCase {
	public function test_the_default_site_name_is_a_slug_of_the_blog_name(): void {
		$old = get_option( 'blogname' );
		update_option( 'blogname', 'Ça & Co — Shop!' );
		try {
			$this->assertMatchesRegularExpression( '/^[a-z0-9-]+$/', Receiver::default_site_name() );
			$this->assertStringStartsWith( 'ca-co', Receiver::default_site_name() );
		} finally {
			update_option( 'blogname', $old );
		}
		$this->assertSame( 'my-site.example', Receiver::sanitize_site_name( '  My Site.Example ' ) );
	}

	public function test_a_token_is_shown_once_and_only_its_fingerprint_stays(): void {
		global $wpdb;
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'Target Site', 'ttl' => 3600 ) );
		$this->assertSame( 200, $response->get_status(), wp_json_encode( $response->get_data() ) );
		$data  = $response->get_data();
		$token = $data['token'];
		$this->assertIsString( $token );
		$this->assertGreaterThanOrEqual( 32, strlen( $token ) );
		$this->assertSame( 'target-site', $data['site_name'] );
		$this->assertEqualsWithDelta( time() + 3600, $data['expires_at'], 120 );
		$this->assertSame( 'target-site', get_option( Receiver::SITE_NAME_OPTION ) );

		// Not in the database, not in the next view.
		$stored = $wpdb->get_col( "SELECT option_value FROM {$wpdb->options} WHERE option_name LIKE 'sitelift%'" );
		foreach ( $stored as $value ) {
			$this->assertStringNotContainsString( $token, $value );
		}
		$view = $this->rest_as_admin( 'GET', '/sitelift/v1/admin/receive' )->get_data();
		$this->assertStringNotContainsString( $token, wp_json_encode( $view ) );
		$this->assertSame( 'target-site', $view['token']['site_name'] );
		$this->assertFalse( (bool) $view['token']['revoked'] );
		$this->assertNotEmpty( $view['token']['fingerprint'] );
	}

	public function test_revoking_the_token(): void {
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'target' ) );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/revoke' );
		$this->assertSame( 200, $response->get_status() );
		$this->assertTrue( (bool) $response->get_data()['token']['revoked'] );
	}

	public function test_rollback_without_an_import_is_refused_cleanly(): void {
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/rollback' );
		$this->assertContains( $response->get_status(), array( 409, 500 ) );
		$this->assertNotEmpty( $response->get_data()['message'] );
	}

	public function test_after_an_import_the_sources_push_job_is_dropped(): void {
		// What the source's database brought along when it was copied here.
		update_option( \SiteLift\Plugin\Runner::JOB_OPTION, array( 'status' => 'running' ), false );
		update_option( \SiteLift\Plugin\Runner::DUE_OPTION, time() );
		set_transient( \SiteLift\Plugin\Preflight::TRANSIENT, array( 'source' => true ), 600 );
		wp_schedule_single_event( time() + 60, \SiteLift\Plugin\Runner::CRON_HOOK );
		do_action( 'sitelift_after_import', array() );
		$this->assertNull( \SiteLift\Plugin\Runner::job() );
		$this->assertSame( 0, (int) get_option( \SiteLift\Plugin\Runner::DUE_OPTION ) );
		$this->assertFalse( get_transient( \SiteLift\Plugin\Preflight::TRANSIENT ) );
		$this->assertFalse( wp_next_scheduled( \SiteLift\Plugin\Runner::CRON_HOOK ) );
	}
}
