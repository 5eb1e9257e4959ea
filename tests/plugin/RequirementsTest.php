<?php
/**
 * The main file's requirement checks: met here; each problem reported as a sentence; and a site without the
 * extension gets an admin notice, never a fatal error, with nothing else of the plugin loaded.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use function SiteLift\Plugin\requirement_problems;

final class RequirementsTest extends TestCase {
	public function test_requirements_are_met_with_the_built_extension(): void {
		$this->assertTrue( extension_loaded( 'sitelift' ) );
		$this->assertSame( array(), requirement_problems() );
		$this->assertTrue( class_exists( 'SiteLift\\Plugin\\Admin', false ), 'the plugin booted' );
	}

	public function test_an_old_php_is_reported(): void {
		$problems = requirement_problems( '7.4.33' );
		$this->assertCount( 1, $problems );
		$this->assertStringContainsString( 'PHP 8.1', $problems[0] );
		$this->assertStringContainsString( '7.4.33', $problems[0] );
	}

	public function test_an_old_extension_is_reported(): void {
		$problems = requirement_problems( PHP_VERSION, '0.0.9' );
		$this->assertCount( 1, $problems );
		$this->assertStringContainsString( 'too old', $problems[0] );
		$this->assertStringContainsString( '0.0.9', $problems[0] );
	}

	public function test_an_extension_without_the_push_is_reported(): void {
		$problems = requirement_problems( PHP_VERSION, '9.0.0', array( 'token_create', 'push_step' ) );
		$this->assertCount( 1, $problems );
		$this->assertStringContainsString( 'token_create, push_step', $problems[0] );
	}

	public function test_without_the_extension_an_admin_notice_and_no_fatal_error(): void {
		$code = 'wp_set_current_user( 1 ); do_action( "admin_notices" );'
			. ' echo "\nadmin-class:", class_exists( "SiteLift\\\\Plugin\\\\Admin", false ) ? "yes" : "no";'
			. ' echo "\nroutes:", count( array_filter( array_keys( rest_get_server()->get_routes() ), function ( $r ) { return 0 === strpos( $r, "/sitelift/v1/admin" ); } ) );';
		list( $status, $out ) = self::php_in_wordpress( $code, false );
		$this->assertSame( 0, $status, $out );
		$this->assertStringContainsString( 'notice-error', $out );
		$this->assertStringContainsString( 'The sitelift PHP extension is not loaded', $out );
		$this->assertStringContainsString( 'admin-class:no', $out );
		$this->assertStringContainsString( 'routes:0', $out );
		$this->assertStringNotContainsString( 'Fatal error', $out );
	}

	public function test_the_notice_is_for_administrators_only(): void {
		$editor = self::$users['editor'];
		list( $status, $out ) = self::php_in_wordpress( "wp_set_current_user( $editor ); do_action( 'admin_notices' ); echo 'end';", false );
		$this->assertSame( 0, $status, $out );
		$this->assertStringNotContainsString( 'sitelift PHP extension', $out );
		$this->assertStringContainsString( 'end', $out );
	}
}
