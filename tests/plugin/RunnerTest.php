<?php
/**
 * The source's job runner: one migration at a time, one step at a time, the token never in a view or in
 * clear in the database, the exclusions filter, WP-Cron taking over, and a failing push reported by email.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Engine;
use SiteLift\Plugin\Runner;
use SiteLift\Plugin\Site_Config;

final class RunnerTest extends TestCase {
	/** A token of the right form for a destination that does not exist (nothing listens on port 1). */
	private function token(): string {
		$dest = \SiteLift\token_create(
			Engine::site(),
			array(
				'url'       => 'http://127.0.0.1:1',
				'site_name' => 'nowhere',
				'ttl'       => 600,
			)
		);
		\SiteLift\token_revoke( Engine::site() );
		return $dest['token'];
	}

	/** A second database connection holding MariaDB's named lock of the step, like another PHP worker. */
	private function hold_step_lock(): \mysqli {
		global $wpdb;
		list( $host, $port ) = array_pad( explode( ':', DB_HOST, 2 ), 2, '3306' );
		$other = new \mysqli( $host, DB_USER, DB_PASSWORD, DB_NAME, (int) $port );
		$name  = 'sitelift_step_' . substr( md5( DB_NAME . '|' . $wpdb->base_prefix ), 0, 16 );
		$got   = $other->query( "SELECT GET_LOCK('" . $other->real_escape_string( $name ) . "', 0)" )->fetch_row()[0];
		$this->assertSame( '1', (string) $got );
		return $other;
	}

	public function test_a_second_migration_cannot_start_while_one_runs(): void {
		$token = $this->token();
		$first = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $token, 'site_name' => 'nowhere' ) );
		$this->assertSame( 200, $first->get_status(), wp_json_encode( $first->get_data() ) );
		$this->assertSame( 'running', $first->get_data()['status'] );

		// Another tab, or another administrator.
		$second = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $token, 'site_name' => 'nowhere' ) );
		$this->assertSame( 409, $second->get_status() );
		$this->assertSame( 'sitelift_busy', $second->get_data()['code'] );
	}

	public function test_a_site_whose_uploads_live_outside_its_folder_cannot_start(): void {
		$this->assertSame( array(), Engine::content_outside_root() );
		$elsewhere = get_temp_dir() . 'sitelift-uploads-' . wp_generate_password( 8, false );
		mkdir( $elsewhere );
		$move = static function ( array $dirs ) use ( $elsewhere ): array {
			$dirs['basedir'] = $elsewhere;
			return $dirs;
		};
		add_filter( 'upload_dir', $move );
		try {
			$this->assertSame( array( $elsewhere ), Engine::content_outside_root() );
			$r = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $this->token(), 'site_name' => 'nowhere' ) );
			$this->assertSame( 409, $r->get_status() );
			$this->assertSame( 'sitelift_content_outside', $r->get_data()['code'] );
			$this->assertStringContainsString( $elsewhere, $r->get_data()['message'] );
			$this->assertNull( Runner::job() );
			$codes = array_column( \SiteLift\Plugin\Preflight::summary( true )['warnings'], 'code' );
			$this->assertContains( 'content_outside', $codes );
		} finally {
			remove_filter( 'upload_dir', $move );
			rmdir( $elsewhere );
		}
		// A folder beside the root whose name starts like it is outside too; one below it is inside.
		$root = Engine::root();
		$this->assertFalse( Site_Config::inside( $root . '2/wp-content', $root ) );
		$this->assertTrue( Site_Config::inside( $root . '/wp-content/uploads/', $root ) );
		$this->assertTrue( Site_Config::inside( $root, $root . '/' ) );
	}

	public function test_the_token_is_never_in_a_view_or_in_clear_in_the_database(): void {
		global $wpdb;
		$token = $this->token();
		$view  = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $token, 'site_name' => 'nowhere' ) )->get_data();
		$this->assertStringNotContainsString( $token, wp_json_encode( $view ) );
		$this->assertTrue( $view['has_token'] );
		$raw = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", Runner::JOB_OPTION ) );
		$this->assertNotEmpty( $raw );
		$this->assertStringNotContainsString( $token, $raw );
		$this->assertStringNotContainsString( substr( $token, 8, 24 ), $raw );
	}

	public function test_a_step_waits_while_another_request_runs_one(): void {
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $this->token(), 'site_name' => 'nowhere' ) );
		$other = $this->hold_step_lock();
		try {
			$this->assertTrue( Runner::step_running() );
			$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/step' );
			$this->assertSame( 200, $response->get_status() );
			$this->assertTrue( $response->get_data()['busy'] );
			$this->assertSame( 0, (int) ( Runner::job()['last_step_at'] ?? 0 ), 'no step ran' );
		} finally {
			$other->close(); // the server drops the lock with the connection, as when a worker dies
		}
		for ( $i = 0; $i < 50 && Runner::step_running(); $i++ ) {
			usleep( 100000 ); // the server notices the closed connection a moment later
		}
		$this->assertFalse( Runner::step_running() );
	}

	public function test_starting_schedules_wp_cron_and_a_page_visit_step(): void {
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $this->token(), 'site_name' => 'nowhere' ) );
		$this->assertNotFalse( wp_next_scheduled( Runner::CRON_HOOK ) );
		$this->assertGreaterThan( 0, (int) get_option( Runner::DUE_OPTION ) );
		$this->assertTrue( has_action( Runner::CRON_HOOK ) !== false );
	}

	public function test_a_step_against_an_unreachable_destination_retries_then_cancel_cleans_up(): void {
		$mails = array();
		$catch = static function ( $return, $atts ) use ( &$mails ) {
			$mails[] = $atts;
			return true;
		};
		add_filter( 'pre_wp_mail', $catch, 10, 2 );
		try {
			$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $this->token(), 'site_name' => 'nowhere' ) );
			$view = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/step' )->get_data();
			$this->assertContains( $view['status'], array( 'running', 'failed' ) );
			$this->assertNotSame( '', $view['error'] );
			if ( 'running' === $view['status'] ) {
				$this->assertTrue( $view['retrying'], 'a connection error is retried' );
			} else {
				$this->assertCount( 1, $mails, 'a failure is mailed' );
				$this->assertStringContainsString( 'failed', $mails[0]['subject'] );
			}
			$this->assertGreaterThan( 0, (int) Runner::job()['last_step_at'] );

			$cancel = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/cancel' );
			$this->assertSame( 200, $cancel->get_status(), wp_json_encode( $cancel->get_data() ) );
			$this->assertSame( 'cancelled', $cancel->get_data()['status'] );
			$this->assertFalse( $cancel->get_data()['has_token'] );
			$this->assertFalse( wp_next_scheduled( Runner::CRON_HOOK ) );
			$this->assertSame( 0, (int) get_option( Runner::DUE_OPTION ) );
			$this->assertSame( 'cancelled', \SiteLift\push_status( Engine::root() )['phase'] ?? 'none' );
		} finally {
			remove_filter( 'pre_wp_mail', $catch, 10 );
		}
	}

	public function test_wp_cron_runs_a_step_when_the_page_is_closed(): void {
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $this->token(), 'site_name' => 'nowhere' ) );
		wp_set_current_user( 0 ); // cron runs for nobody
		do_action( Runner::CRON_HOOK );
		$job = Runner::job();
		$this->assertGreaterThan( 0, (int) $job['last_step_at'] );
		$this->assertSame( 'cron', $job['last_origin'] );
		if ( 'running' === $job['status'] ) {
			$this->assertNotFalse( wp_next_scheduled( Runner::CRON_HOOK ), 'the next step is scheduled' );
		}
	}

	public function test_an_interrupted_migration_resumes_with_the_stored_or_a_new_token(): void {
		$token = $this->token();
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $token, 'site_name' => 'nowhere' ) );
		$job            = Runner::job();
		$job['status']  = 'interrupted'; // as after steps that kept failing
		$job['restart'] = false;
		update_option( Runner::JOB_OPTION, $job, false );

		$resumed = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/resume' );
		$this->assertSame( 200, $resumed->get_status(), wp_json_encode( $resumed->get_data() ) );
		$this->assertSame( 'running', $resumed->get_data()['status'] );
		$this->assertFalse( $resumed->get_data()['retrying'] );

		// Without the stored token (say the salts changed), only a pasted one lets it go on.
		$job           = Runner::job();
		$job['status'] = 'failed';
		$job['token']  = 'not-readable';
		update_option( Runner::JOB_OPTION, $job, false );
		$refused = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/resume' );
		$this->assertSame( 400, $refused->get_status() );
		$this->assertSame( 'sitelift_token_needed', $refused->get_data()['code'] );
		$again = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/resume', array( 'token' => $token ) );
		$this->assertSame( 200, $again->get_status() );
		$this->assertTrue( $again->get_data()['has_token'] );
		$this->assertFalse( (bool) Runner::job()['restart'], 'resuming goes on where it stopped' );
	}

	public function test_no_step_without_a_running_migration(): void {
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/step' );
		$this->assertSame( 409, $response->get_status() );
		$response = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/resume' );
		$this->assertSame( 409, $response->get_status() );
	}

	public function test_the_excludes_filter_reaches_the_push_options(): void {
		$filter = static function ( $excludes ) {
			return array_merge( $excludes, array( 'wp-content/uploads/huge/*', '', 42, "  wp-content/tmp  ", 'wp-content/uploads/huge/*' ) );
		};
		add_filter( 'sitelift_excludes', $filter );
		try {
			$options = Engine::push_options( 'tok', 'name' );
		} finally {
			remove_filter( 'sitelift_excludes', $filter );
		}
		$this->assertSame( array( 'wp-content/uploads/huge/*', 'wp-content/tmp' ), $options['exclude'] );
		$this->assertSame( untrailingslashit( ABSPATH ), $options['path'] );
		$this->assertSame( $GLOBALS['wpdb']->base_prefix, $options['table_prefix'] );
		$this->assertSame( array( 'host', 'user', 'password', 'name' ), array_keys( $options['db'] ) );
		$this->assertArrayNotHasKey( 'restart', $options );
		$this->assertTrue( Engine::push_options( 'tok', 'name', true )['restart'] );
	}

	public function test_the_log_never_shows_the_token(): void {
		$token = $this->token();
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/start', array( 'token' => $token, 'site_name' => 'nowhere' ) );
		$this->rest_as_admin( 'POST', '/sitelift/v1/admin/migrate/step' );
		$log = $this->rest_as_admin( 'GET', '/sitelift/v1/admin/migrate/log' );
		$this->assertSame( 200, $log->get_status() );
		$this->assertIsString( $log->get_data()['log'] );
		$this->assertStringNotContainsString( $token, $log->get_data()['log'] );
	}
}
