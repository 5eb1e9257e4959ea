<?php
/**
 * Activates a plugin in a site: php wp-activate.php --root=DIR --url=URL --plugin=dir/main.php
 */
require __DIR__ . '/wp-env.php';
$o = sl_opts(['root', 'url', 'plugin']);
sl_wp_server($o['root'], $o['url'], '/wp-admin/plugins.php');
require rtrim($o['root'], '/') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

if (is_plugin_active($o['plugin'])) {
	exit(0);
}
$r = activate_plugin($o['plugin'], '', false, false);
if (is_wp_error($r)) {
	fwrite(STDERR, "activating {$o['plugin']} failed: " . $r->get_error_message() . "\n");
	exit(1);
}
echo "activated plugin {$o['plugin']}\n";
