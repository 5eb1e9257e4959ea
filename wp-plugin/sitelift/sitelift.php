<?php
/**
 * Plugin Name:       SiteLift
 * Description:       Moves a whole WordPress site — files, database, uploads — to another WordPress install, verified and atomic.
 * Version:           0.1.0
 * Requires at least: 6.0
 * Requires PHP:      8.1
 * License:           GPL-2.0-or-later
 * Text Domain:       sitelift
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const VERSION           = '0.1.0';
const MIN_EXT_VERSION   = '0.1.0';
const MIN_PHP_VERSION   = '8.1';
/** The extension's functions the plugin calls (includes/class-engine.php, includes/class-transfer-routes.php). */
const REQUIRED_FUNCTIONS = array( 'version', 'rollback', 'cleanup', 'status', 'token_create', 'token_revoke', 'token_info', 'receive', 'receive_authenticate', 'push_step', 'push_status', 'push_cancel' );

/**
 * What stops SiteLift from working here, as sentences for the admin (empty when all is well).
 *
 * @return string[]
 */
function requirement_problems( ?string $php_version = null, ?string $ext_version = null, ?array $missing_functions = null ): array {
	$php_version = $php_version ?? PHP_VERSION;
	$problems    = array();
	if ( version_compare( $php_version, MIN_PHP_VERSION, '<' ) ) {
		/* translators: 1: required PHP version, 2: running PHP version. */
		$problems[] = sprintf( __( 'SiteLift needs PHP %1$s or later; this site runs PHP %2$s.', 'sitelift' ), MIN_PHP_VERSION, $php_version );
	}
	if ( null === $ext_version && ! extension_loaded( 'sitelift' ) ) {
		$problems[] = __( 'The sitelift PHP extension is not loaded. Ask your host to install and enable it for this site\'s PHP.', 'sitelift' );
		return $problems;
	}
	$ext_version = $ext_version ?? \SiteLift\version();
	if ( version_compare( $ext_version, MIN_EXT_VERSION, '<' ) ) {
		/* translators: 1: required extension version, 2: installed extension version. */
		$problems[] = sprintf( __( 'The sitelift PHP extension is too old: version %1$s or later is needed, %2$s is installed. Ask your host to update it.', 'sitelift' ), MIN_EXT_VERSION, $ext_version );
		return $problems;
	}
	// Same version number, but built without the push (a development build): too old all the same.
	if ( null === $missing_functions ) {
		$missing_functions = array();
		foreach ( REQUIRED_FUNCTIONS as $name ) {
			if ( ! function_exists( 'SiteLift\\' . $name ) ) {
				$missing_functions[] = $name;
			}
		}
	}
	if ( $missing_functions ) {
		/* translators: 1: installed extension version, 2: function names. */
		$problems[] = sprintf( __( 'The sitelift PHP extension %1$s lacks functions this plugin needs (%2$s). Ask your host to update it.', 'sitelift' ), $ext_version, implode( ', ', $missing_functions ) );
	}
	return $problems;
}

$sitelift_problems = requirement_problems();
if ( $sitelift_problems ) {
	add_action(
		is_multisite() ? 'network_admin_notices' : 'admin_notices',
		static function () use ( $sitelift_problems ) {
			if ( ! current_user_can( is_multisite() ? 'manage_network_options' : 'manage_options' ) ) {
				return;
			}
			foreach ( $sitelift_problems as $problem ) {
				printf( '<div class="notice notice-error"><p><strong>SiteLift:</strong> %s</p></div>', esc_html( $problem ) );
			}
		}
	);
	return;
}

require_once __DIR__ . '/includes/class-transfer-routes.php';
Transfer_Routes::register();

require_once __DIR__ . '/includes/class-plugin.php';
Plugin::boot( __FILE__ );
