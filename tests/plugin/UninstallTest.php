<?php
/**
 * Deleting the plugin removes every option, transient, token, job record, cron event and the .sitelift
 * folder it made, and nothing outside it (a link out of the folder is removed, not followed).
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Runner;

final class UninstallTest extends TestCase {
	public function test_uninstall_removes_everything_sitelift_made(): void {
		global $wpdb;
		// What a used SiteLift leaves: a token, a job, cron, a cached summary, work files.
		$token = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'target' ) );
		$this->assertSame( 200, $token->get_status() );
		$start = $this->rest_as_admin(
			'POST',
			'/sitelift/v1/admin/migrate/start',
			array(
				'token'     => $token->get_data()['token'],
				'site_name' => 'target',
			)
		);
		$this->assertSame( 200, $start->get_status() );
		$this->rest_as_admin( 'GET', '/sitelift/v1/admin/migrate/preflight' );
		update_option( 'sitelift_something_else', 'x' );
		$work    = ABSPATH . '.sitelift';
		$outside = sys_get_temp_dir() . '/sitelift-uninstall-outside-' . getmypid();
		mkdir( $outside );
		file_put_contents( $outside . '/keep.txt', 'keep' );
		@mkdir( $work . '/receive/stage/files/deep', 0700, true );
		file_put_contents( $work . '/receive/stage/files/deep/a.txt', 'a' );
		symlink( $outside, $work . '/receive/link-out' );

		$before = $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%sitelift%'" );
		$this->assertContains( 'sitelift_token', $before );
		$this->assertContains( Runner::JOB_OPTION, $before );
		$this->assertContains( '_transient_sitelift_preflight', $before );
		$this->assertNotFalse( wp_next_scheduled( Runner::CRON_HOOK ) );

		list( $status, $out ) = self::php_in_wordpress( 'define( "WP_UNINSTALL_PLUGIN", "sitelift/sitelift.php" ); include WP_PLUGIN_DIR . "/sitelift/uninstall.php"; echo "uninstalled";' );
		$this->assertSame( 0, $status, $out );
		$this->assertStringContainsString( 'uninstalled', $out );

		wp_cache_flush();
		$after = $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%sitelift%'" );
		$this->assertSame( array(), $after );
		$this->assertFalse( wp_next_scheduled( Runner::CRON_HOOK ) );
		$this->assertFileDoesNotExist( $work );
		$this->assertFileExists( $outside . '/keep.txt', 'the link was not followed' );
		unlink( $outside . '/keep.txt' );
		rmdir( $outside );
	}

	public function test_uninstall_php_does_nothing_when_not_uninstalling(): void {
		update_option( 'sitelift_site_name', 'stays' );
		list( $status, $out ) = self::php_in_wordpress( 'include WP_PLUGIN_DIR . "/sitelift/uninstall.php"; echo "not reached";' );
		$this->assertSame( 0, $status, $out );
		$this->assertStringNotContainsString( 'not reached', $out );
		wp_cache_flush();
		$this->assertSame( 'stays', get_option( 'sitelift_site_name' ) );
	}
}
