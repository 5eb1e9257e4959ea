<?php
/**
 * Installs WordPress non-interactively into a site whose files and wp-config.php exist.
 * php wp-install.php --root=DIR --url=URL --title=T --user=U --password=P --email=E
 */
require __DIR__ . '/wp-env.php';
$o = sl_opts(['root', 'url', 'title', 'user', 'password', 'email']);
sl_wp_server($o['root'], $o['url'], '/wp-admin/install.php');
define('WP_INSTALLING', true);
require rtrim($o['root'], '/') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (is_blog_installed()) {
	echo "WordPress is already installed at {$o['url']}\n";
	exit(0);
}
// The permalink structure is set below: skip wp_install()'s loopback request that tries some out.
$sl_pretty = static fn () => '/%year%/%monthnum%/%postname%/';
add_filter('pre_option_permalink_structure', $sl_pretty);
// One commit for the installer's few hundred INSERTs instead of one each (DDL still commits itself).
$wpdb->query('SET SESSION autocommit = 0');
$result = wp_install($o['title'], $o['user'], $o['email'], true, '', wp_slash($o['password']), '');
if (empty($result['user_id'])) {
	fwrite(STDERR, "wp_install() failed\n");
	exit(1);
}
remove_filter('pre_option_permalink_structure', $sl_pretty);
update_option('siteurl', $o['url']);
update_option('home', $o['url']);
update_option('timezone_string', 'UTC');
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');
$wp_rewrite->flush_rules(false);
$wpdb->query('COMMIT');
$wpdb->query('SET SESSION autocommit = 1');
echo "installed WordPress {$GLOBALS['wp_version']} at {$o['url']} (admin user '{$o['user']}', table prefix {$GLOBALS['table_prefix']})\n";
