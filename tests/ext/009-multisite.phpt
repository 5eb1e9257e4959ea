--TEST--
A multisite network is restored only at its own address: an import or push to another one is refused before anything changes
--EXTENSIONS--
sitelift
--SKIPIF--
<?php if (!getenv('SITELIFT_TEST_DB_HOST')) die('skip SITELIFT_TEST_DB_* not set (scripts/test sets them)'); ?>
--FILE--
<?php
require __DIR__ . '/lib/testdb.inc';
$db = sitelift_test_db();
sitelift_drop_tables($db, 'ms9src_');
sitelift_drop_tables($db, 'ms9dst_');

$src = sitelift_temp_dir();
$dst = sitelift_temp_dir();
file_put_contents("$src/index.php", "<?php // network\n");
file_put_contents("$src/wp-config.php", "<?php // network config\n");
sitelift_make_options_table($db, 'ms9src_', 'https://network.test');
file_put_contents("$dst/index.php", "<?php // destination\n");
file_put_contents("$dst/wp-config.php", "<?php // destination config\n");
sitelift_make_options_table($db, 'ms9dst_', 'http://elsewhere.test');

$archive = "$src.tar.zst";
SiteLift\export(['path' => $src, 'output' => $archive, 'db' => $db, 'table_prefix' => 'ms9src_', 'multisite' => true]);

// To another address: refused, nothing staged, the destination as it was.
try {
    SiteLift\import(['path' => $dst, 'input' => $archive, 'db' => $db, 'table_prefix' => 'ms9dst_']);
    echo "imported at another address\n";
} catch (SiteLift\UsageException $e) {
    echo get_class($e), ': ', str_contains($e->getMessage(), 'multisite network') ? 'says why' : $e->getMessage(), "\n";
}
echo file_get_contents("$dst/index.php");
echo sitelift_sql($db, "SELECT option_value FROM ms9dst_options WHERE option_name = 'home'")[0][0], "\n";
var_dump(count(sitelift_sql($db, "SHOW TABLES LIKE 'sl\\_stage\\_%'")));

// At its own address (the scheme may change): restored.
$r = SiteLift\import(['path' => $dst, 'input' => $archive, 'db' => $db, 'table_prefix' => 'ms9dst_',
    'url' => 'http://NETWORK.test/']);
echo "restored: {$r['tables']} table\n";
echo file_get_contents("$dst/index.php");

// A push from a network to another address stops before it lists, connects or sends anything.
$token = SiteLift\token_create(['path' => $dst, 'db' => $db, 'table_prefix' => 'ms9dst_'],
    ['url' => 'http://127.0.0.1:9', 'site_name' => 'dest', 'ttl' => 600])['token'];
try {
    SiteLift\push_step(['path' => $src, 'db' => $db, 'table_prefix' => 'ms9src_', 'site_name' => 'dest',
        'token' => $token, 'multisite' => true], 1.0);
    echo "pushed\n";
} catch (SiteLift\UsageException $e) {
    echo get_class($e), ': ', str_contains($e->getMessage(), 'multisite network') ? 'says why' : $e->getMessage(), "\n";
}
var_dump(SiteLift\push_status($src));

sitelift_drop_tables($db, 'ms9src_');
sitelift_drop_tables($db, 'ms9dst_');
sitelift_remove_dir($src);
sitelift_remove_dir($dst);
unlink($archive);
?>
--EXPECT--
SiteLift\UsageException: says why
<?php // destination
http://elsewhere.test
int(0)
restored: 1 table
<?php // network
SiteLift\UsageException: says why
array(0) {
}
