<?php
/**
 * Who sees Tools → SiteLift and who may open it.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Admin;
use SiteLift\Plugin\Plugin;

final class CapabilityTest extends TestCase {
	private function register_menu(): void {
		global $submenu, $_registered_pages, $_wp_submenu_nopriv;
		$submenu            = array();
		$_registered_pages  = array();
		$_wp_submenu_nopriv = array();
		Admin::menu();
	}

	private function tools_slugs(): array {
		global $submenu;
		return array_map(
			static function ( $item ) {
				return $item[2];
			},
			$submenu['tools.php'] ?? array()
		);
	}

	public function test_the_capability_is_manage_options_on_a_single_site(): void {
		$this->assertFalse( is_multisite() );
		$this->assertSame( 'manage_options', Plugin::capability() );
	}

	public function test_administrators_get_the_tools_page(): void {
		$this->login_as( 'administrator' );
		$this->register_menu();
		$this->assertContains( 'sitelift', $this->tools_slugs() );
		$this->assertNotFalse( has_action( 'load-' . get_plugin_page_hookname( 'sitelift', 'tools.php' ), array( Admin::class, 'load' ) ) );
	}

	/**
	 * @dataProvider lesser_roles
	 */
	public function test_other_roles_get_no_page( string $role ): void {
		$this->login_as( $role );
		$this->register_menu();
		$this->assertNotContains( 'sitelift', $this->tools_slugs() );
	}

	/**
	 * @dataProvider lesser_roles
	 */
	public function test_loading_the_page_without_the_capability_dies_with_403( string $role ): void {
		$this->login_as( $role );
		try {
			Admin::load();
			$this->fail( 'Admin::load() let a ' . $role . ' in' );
		} catch ( Wp_Die $e ) {
			$this->assertSame( 403, $e->getCode() );
		}
	}

	/**
	 * @dataProvider lesser_roles
	 */
	public function test_the_page_renders_nothing_without_the_capability( string $role ): void {
		$this->login_as( $role );
		ob_start();
		Admin::render();
		$this->assertSame( '', ob_get_clean() );
	}

	public function test_the_page_renders_both_tabs_for_an_administrator(): void {
		$this->login_as( 'administrator' );
		foreach ( array( 'migrate' => 'sitelift-start-form', 'receive' => 'sitelift-generate' ) as $tab => $id ) {
			$_GET['tab'] = $tab;
			ob_start();
			Admin::render();
			$html = ob_get_clean();
			$this->assertStringContainsString( 'id="' . $id . '"', $html, $tab );
			$this->assertStringContainsString( 'nav-tab-active', $html );
		}
		unset( $_GET['tab'] );
	}

	public function test_an_unknown_tab_falls_back_and_is_not_echoed(): void {
		$this->login_as( 'administrator' );
		$_GET['tab'] = '"><script>alert(1)</script>';
		ob_start();
		Admin::render();
		$html = ob_get_clean();
		unset( $_GET['tab'] );
		$this->assertStringNotContainsString( '<script>alert(1)', $html );
		$this->assertStringContainsString( 'data-tab="migrate"', $html );
	}

	public static function lesser_roles(): array {
		return array(
			'editor'     => array( 'editor' ),
			'author'     => array( 'author' ),
			'subscriber' => array( 'subscriber' ),
		);
	}
}
