<?php
/**
 * Removes everything SiteLift created on this site when the plugin is deleted: every sitelift_ option and
 * transient (the machine token's record, the job records, the site name), the WP-Cron events, what the last
 * import kept for a rollback and any leftover staging (through the extension when it is loaded), and the
 * .sitelift work folder.
 *
 * @package SiteLift
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Deletes a folder and everything in it, never following a symbolic link out of it.
 */
function sitelift_uninstall_remove_tree( string $path ): void {
	if ( is_link( $path ) || is_file( $path ) ) {
		@unlink( $path ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
		return;
	}
	if ( ! is_dir( $path ) ) {
		return;
	}
	@chmod( $path, 0700 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors -- the push folder is 0700 already; staging may be stricter
	$entries = @scandir( $path ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
	foreach ( (array) $entries as $entry ) {
		if ( '.' !== $entry && '..' !== $entry ) {
			sitelift_uninstall_remove_tree( $path . '/' . $entry );
		}
	}
	@rmdir( $path ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
}

/** Deletes this site's sitelift_ options and transients from one options table. */
function sitelift_uninstall_options( string $table ): void {
	global $wpdb;
	foreach ( array( 'sitelift\_%', '\_transient\_sitelift\_%', '\_transient\_timeout\_sitelift\_%', '\_site\_transient\_sitelift\_%', '\_site\_transient\_timeout\_sitelift\_%' ) as $like ) {
		$names = $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM `$table` WHERE option_name LIKE %s", $like ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		foreach ( $names as $name ) {
			$wpdb->delete( $table, array( 'option_name' => $name ) );
			wp_cache_delete( $name, 'options' );
		}
	}
}

function sitelift_uninstall(): void {
	global $wpdb;

	// The engine's own records first, while the options it reads still exist.
	if ( extension_loaded( 'sitelift' ) ) {
		if ( ! class_exists( 'SiteLift\\Plugin\\Engine', false ) ) {
			require_once __DIR__ . '/includes/class-engine.php'; // a deleted plugin is not loaded
		}
		$root = \SiteLift\Plugin\Engine::root();
		$site = \SiteLift\Plugin\Engine::site();
		$calls = array(
			'SiteLift\\push_cancel'  => array( $root ),
			'SiteLift\\token_revoke' => array( $site ),
			'SiteLift\\cleanup'      => array( $site ),
		);
		foreach ( $calls as $function => $args ) {
			if ( function_exists( $function ) ) {
				try {
					$function( ...$args );
				} catch ( \Throwable $e ) { // phpcs:ignore Generic.CodeAnalysis.EmptyStatement.DetectedCatch -- nothing to undo: go on removing the rest
				}
			}
		}
	}

	wp_clear_scheduled_hook( 'sitelift_push_step' );

	sitelift_uninstall_options( $wpdb->options );
	if ( is_multisite() ) {
		foreach ( get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) as $blog_id ) {
			sitelift_uninstall_options( $wpdb->get_blog_prefix( $blog_id ) . 'options' );
		}
		$names = $wpdb->get_col( $wpdb->prepare( "SELECT meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE %s", 'sitelift\_%' ) );
		foreach ( $names as $name ) {
			delete_site_option( $name );
		}
	}
	wp_cache_delete( 'alloptions', 'options' );
	wp_cache_delete( 'notoptions', 'options' );

	sitelift_uninstall_remove_tree( untrailingslashit( ABSPATH ) . '/.sitelift' );
}

sitelift_uninstall();
