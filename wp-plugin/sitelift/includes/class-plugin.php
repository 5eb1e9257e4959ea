<?php
/**
 * Loads the plugin's parts once its requirements are met (see sitelift.php).
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Plugin {
	/** @var string the main plugin file */
	private static $file = '';

	public static function boot( string $file ): void {
		self::$file = $file;
		$dir        = __DIR__;
		require_once $dir . '/class-engine.php';
		require_once $dir . '/class-mailer.php';
		require_once $dir . '/class-runner.php';
		require_once $dir . '/class-preflight.php';
		require_once $dir . '/class-receiver.php';
		require_once $dir . '/class-admin-rest.php';
		require_once $dir . '/class-admin.php';

		add_action( 'init', array( self::class, 'load_textdomain' ), 1 );
		Runner::register();
		Receiver::register();
		Admin_Rest::register();
		if ( is_admin() ) {
			Admin::register();
		}
	}

	public static function load_textdomain(): void {
		load_plugin_textdomain( 'sitelift', false, dirname( plugin_basename( self::$file ) ) . '/languages' );
	}

	/** Who may use SiteLift: site administrators, or network administrators on multisite. */
	public static function capability(): string {
		return is_multisite() ? 'manage_network_options' : 'manage_options';
	}

	public static function file(): string {
		return self::$file;
	}

	public static function url( string $relative ): string {
		return plugins_url( $relative, self::$file );
	}

	public static function path( string $relative ): string {
		return plugin_dir_path( self::$file ) . $relative;
	}
}
