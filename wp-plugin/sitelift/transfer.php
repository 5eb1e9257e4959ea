<?php
/**
 * The direct endpoint for the parts of a push: PUT transfer.php?rest_route=/sitelift/v1/jobs/JOB/parts/N.
 *
 * The REST route (includes/class-transfer-routes.php) does the same work. A migration sends hundreds of parts, and
 * loading all of WordPress for each costs some 50 ms, more than the part's own bookkeeping; here WordPress is
 * loaded with SHORTINIT (configuration, database, options: about 5 ms). The extension checks the signature
 * exactly as it does behind the REST route. Only parts come here; the handshake, status and finalize (which fires
 * the import hooks) stay on the REST API. A source that finds this file blocked or broken sends its parts through
 * the REST route instead.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin\Direct;

/** Answers with JSON in the REST API's shape and stops. */
function answer( int $status, array $body ): void {
	http_response_code( $status );
	header( 'Content-Type: application/json; charset=utf-8' );
	header( 'Cache-Control: no-store' );
	header( 'X-Content-Type-Options: nosniff' );
	echo json_encode( $body, JSON_UNESCAPED_SLASHES ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- WordPress may not be loaded yet.
	exit;
}

/** A refusal that tells the source to use the REST route instead (it does not count as a failed signature). */
function unavailable( int $status, string $why ): void {
	answer(
		$status,
		array(
			'code'    => 'sitelift_direct_unavailable',
			'message' => $why,
		)
	);
}

/** The folder holding wp-load.php: the site root, above wp-content/plugins/<this folder> (symlinks not resolved). */
function find_wp_load(): ?string {
	$script = isset( $_SERVER['SCRIPT_FILENAME'] ) ? (string) $_SERVER['SCRIPT_FILENAME'] : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- set by the web server, used as a file path.
	foreach ( array( '' !== $script ? dirname( $script ) : '', __DIR__ ) as $dir ) {
		for ( $i = 0; '' !== $dir && $i < 8; ++$i ) {
			if ( is_file( $dir . '/wp-load.php' ) ) {
				return $dir . '/wp-load.php';
			}
			$up = dirname( $dir );
			if ( $up === $dir ) {
				break;
			}
			$dir = $up;
		}
	}
	return null;
}

$method = isset( $_SERVER['REQUEST_METHOD'] ) ? (string) $_SERVER['REQUEST_METHOD'] : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- compared with a constant.
$route  = isset( $_GET['rest_route'] ) && is_string( $_GET['rest_route'] ) ? $_GET['rest_route'] : ''; // phpcs:ignore WordPress.Security.NonceVerification,WordPress.Security.ValidatedSanitizedInput -- matched against a strict pattern; the request is signed.
if ( 'PUT' !== $method || 1 !== preg_match( '#^/sitelift/v1/jobs/[0-9a-f]{32}/parts/[0-9]{1,12}$#D', $route ) ) {
	answer(
		404,
		array(
			'code'    => 'sitelift_no_route',
			'message' => 'Only the parts of a push are sent here.',
		)
	);
}

$wp_load = find_wp_load();
if ( null === $wp_load ) {
	unavailable( 404, 'WordPress was not found above this plugin.' );
}
define( 'SHORTINIT', true );
require_once $wp_load;

if ( ! function_exists( 'SiteLift\\receive' ) ) {
	unavailable( 503, 'The sitelift PHP extension is not loaded.' );
}
// A deactivated plugin receives nothing, here as on the REST API.
$sitelift_basename = basename( __DIR__ ) . '/sitelift.php';
$sitelift_active   = in_array( $sitelift_basename, (array) get_option( 'active_plugins', array() ), true )
	|| ( is_multisite() && isset( ( (array) get_site_option( 'active_sitewide_plugins', array() ) )[ $sitelift_basename ] ) );
if ( ! $sitelift_active ) {
	unavailable( 404, 'The SiteLift plugin is not active on this site.' );
}

require_once __DIR__ . '/includes/class-engine.php';
require_once __DIR__ . '/includes/class-transfer-routes.php';

$headers = array();
foreach ( $_SERVER as $name => $value ) {
	if ( is_string( $value ) && str_starts_with( (string) $name, 'HTTP_X_SITELIFT_' ) ) {
		$headers[ strtolower( substr( (string) $name, 5 ) ) ] = $value; // x_sitelift_token ...: the extension reads either form.
	}
}
$target = isset( $_SERVER['REQUEST_URI'] ) ? (string) $_SERVER['REQUEST_URI'] : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- compared byte for byte by the signature check.
// The extension reads the body from the stream into the buffer it decrypts in place: a part of several MB is
// then held once in this worker's memory, not as a PHP string and again as plaintext.
$body = fopen( 'php://input', 'rb' ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_fopen -- the request body, read by the extension.
if ( false === $body ) {
	unavailable( 503, 'The request body cannot be read.' );
}
$result = \SiteLift\Plugin\Transfer_Routes::receive( \SiteLift\Plugin\Transfer_Routes::site_basics(), 'PUT', $target, $headers, $body );
answer( (int) $result['status'], (array) $result['body'] );
