<?php
/**
 * Boots the throw-away WordPress that tests/plugin/run prepared, as an HTTP request to its URL would, with
 * the SiteLift plugin active. WordPress expects its bootstrap variables to be globals: declared so here,
 * since PHPUnit includes this file inside a function.
 *
 * @package SiteLift
 */

// phpcs:disable WordPress.NamingConventions.PrefixAllGlobals

$root = getenv( 'SITELIFT_PLUGIN_TEST_ROOT' );
$url  = getenv( 'SITELIFT_PLUGIN_TEST_URL' );
if ( ! $root || ! is_file( $root . '/wp-load.php' ) ) {
	fwrite( STDERR, "SITELIFT_PLUGIN_TEST_ROOT does not name a WordPress; run tests/plugin/run\n" );
	exit( 1 );
}

$parts                      = parse_url( $url );
$_SERVER['HTTP_HOST']       = $parts['host'] . ( isset( $parts['port'] ) ? ':' . $parts['port'] : '' );
$_SERVER['SERVER_NAME']     = $parts['host'];
$_SERVER['SERVER_PORT']     = (string) ( $parts['port'] ?? 80 );
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';

global $wpdb, $table_prefix, $wp_version, $wp_db_version, $wp_rewrite, $wp, $wp_query, $wp_the_query, $wp_roles,
	$menu, $submenu, $_wp_submenu_nopriv, $admin_page_hooks, $_registered_pages, $_parent_pages, $wp_filter,
	$shortcode_tags, $current_user, $wp_rest_server, $wp_locale, $pagenow;

define( 'SITELIFT_TESTING', true );
if ( getenv( 'SITELIFT_TEST_PRELOAD' ) ) {
	require getenv( 'SITELIFT_TEST_PRELOAD' ); // a developer's stand-ins, never in the repository
}
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';

require_once __DIR__ . '/TestCase.php';
