<?php
/**
 * The pre-flight summary: sizes, largest tables and folders, counts, versions, and each warning.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Preflight;

final class PreflightTest extends TestCase {
	public function test_the_summary_measures_the_site(): void {
		global $wpdb;
		$response = $this->rest_as_admin( 'GET', '/sitelift/v1/admin/migrate/preflight', array( 'fresh' => true ) );
		$this->assertSame( 200, $response->get_status() );
		$s = $response->get_data();
		$this->assertGreaterThan( 0, $s['database']['bytes'] );
		$this->assertGreaterThanOrEqual( 12, $s['database']['table_count'] );
		$names = array_column( $s['database']['largest'], 'name' );
		foreach ( $names as $name ) {
			$this->assertStringStartsWith( $wpdb->base_prefix, $name );
		}
		$bytes = array_column( $s['database']['largest'], 'bytes' );
		$sorted = $bytes;
		rsort( $sorted );
		$this->assertSame( $sorted, $bytes, 'largest first' );

		$this->assertGreaterThan( 10 << 20, $s['files']['bytes'], 'WordPress core alone is bigger' );
		$this->assertContains( 'wp-includes/', array_column( $s['files']['largest'], 'name' ) );
		$this->assertFalse( $s['files']['partial'] );
		$this->assertGreaterThanOrEqual( 1, $s['counts']['users'] );
		$this->assertSame( PHP_VERSION, $s['versions']['php'] );
		$this->assertSame( $GLOBALS['wp_version'], $s['versions']['wordpress'] );
		$this->assertNotEmpty( $s['versions']['database'] );
		$this->assertSame( $s, get_transient( Preflight::TRANSIENT ), 'kept for the next page load' );
	}

	public function test_warnings_for_drop_ins_redirects_keyless_and_non_utf8mb4_tables(): void {
		global $wpdb;
		$dropin   = WP_CONTENT_DIR . '/advanced-cache.php';
		$htaccess = ABSPATH . '.htaccess';
		$t1       = $wpdb->base_prefix . 'sl_nokey';
		$t2       = $wpdb->base_prefix . 'sl_latin1';
		file_put_contents( $dropin, "<?php\n// test drop-in\n" );
		file_put_contents(
			$htaccess,
			"Redirect 301 /old-page /new-page\nRewriteEngine On\nRewriteRule ^shop/(.*)$ /store/$1 [R=301,L]\n"
			. "# BEGIN WordPress\nRewriteRule ^index\\.php$ - [L]\nRewriteRule . /index.php [L]\n# END WordPress\n"
		);
		$wpdb->query( "CREATE TABLE `$t1` (a INT, b VARCHAR(10)) DEFAULT CHARSET=utf8mb4" );
		$wpdb->query( "CREATE TABLE `$t2` (id INT PRIMARY KEY, b VARCHAR(10)) DEFAULT CHARSET=latin1" );
		try {
			$s     = Preflight::summary( true );
			$codes = array_column( $s['warnings'], 'code' );
			$this->assertContains( 'dropin', $codes );
			$this->assertContains( 'htaccess', $codes );
			$this->assertContains( 'no_primary_key', $codes );
			$this->assertContains( 'charset', $codes );
			$by_code = array_column( $s['warnings'], null, 'code' );
			$this->assertStringContainsString( 'advanced-cache.php', $by_code['dropin']['message'] );
			$this->assertCount( 2, $by_code['htaccess']['details'], 'WordPress\'s own block is not counted' );
			$this->assertStringContainsString( $t1, $by_code['no_primary_key']['message'] );
			$this->assertStringNotContainsString( $t2, $by_code['no_primary_key']['message'] );
			$this->assertStringContainsString( $t2, $by_code['charset']['message'] );
		} finally {
			unlink( $dropin );
			unlink( $htaccess );
			$wpdb->query( "DROP TABLE IF EXISTS `$t1`, `$t2`" );
		}
		$codes = array_column( Preflight::summary( true )['warnings'], 'code' );
		$this->assertSame( array(), $codes, 'a plain install has no warnings' );
	}

	public function test_the_destination_disk_warning_needs_the_handshake(): void {
		$summary = array(
			'database' => array( 'bytes' => 100 << 20 ),
			'files'    => array( 'bytes' => 400 << 20 ),
		);
		$this->assertSame( array(), Preflight::destination_warnings( $summary, array() ), 'not connected yet' );
		$low  = array( 'destination' => array( 'limits' => array( 'free_disk' => 600 << 20 ) ) );
		$warn = Preflight::destination_warnings( $summary, $low );
		$this->assertSame( 'disk', $warn[0]['code'] );
		$plenty = array( 'destination' => array( 'free_disk' => 5 << 30 ) );
		$this->assertSame( array(), Preflight::destination_warnings( $summary, $plenty ) );
		// Twice the site is not enough: the destination also keeps 64 MiB free for the live site, or the margin
		// its handshake names.
		$just = array( 'destination' => array( 'free_disk' => 1000 << 20 ) );
		$this->assertSame( 'disk', Preflight::destination_warnings( $summary, $just )[0]['code'] );
		$named = array( 'destination' => array( 'limits' => array( 'free_disk' => 1005 << 20, 'min_free_disk' => 1 << 20 ) ) );
		$this->assertSame( array(), Preflight::destination_warnings( $summary, $named ) );
		$named['destination']['limits']['min_free_disk'] = 200 << 20;
		$warn = Preflight::destination_warnings( $summary, $named );
		$this->assertStringContainsString( '200 MB stay free', $warn[0]['message'] );
	}
}
