--TEST--
Importing something that is not a SiteLift archive fails cleanly with the right exception
--EXTENSIONS--
sitelift
--SKIPIF--
<?php if (!getenv('SITELIFT_TEST_DB_HOST')) die('skip SITELIFT_TEST_DB_* not set (scripts/test sets them)'); ?>
--FILE--
<?php
require __DIR__ . '/lib/testdb.inc';
$db = sitelift_test_db();
$root = sitelift_temp_dir();
file_put_contents("$root/wp-config.php", "<?php\n");
sitelift_make_options_table($db, 'imp_', 'http://dest.test');

$cases = [
    'garbage' => random_bytes(4096),
    'empty' => '',
    'plain text' => str_repeat("hello\n", 100),
];
foreach ($cases as $name => $bytes) {
    $file = "$root/archive.bin";
    file_put_contents($file, $bytes);
    try {
        SiteLift\import(['path' => $root, 'input' => $file, 'db' => $db, 'table_prefix' => 'imp_']);
        echo "$name: imported?!\n";
    } catch (SiteLift\Exception $e) {
        echo "$name: ", get_class($e), "\n";
    }
}
try {
    SiteLift\import(['path' => $root, 'input' => "$root/missing.tar", 'db' => $db, 'table_prefix' => 'imp_']);
} catch (SiteLift\Exception $e) {
    echo "missing: ", get_class($e), "\n";
}
try {
    SiteLift\rollback(['path' => $root, 'db' => $db, 'table_prefix' => 'imp_']);
} catch (SiteLift\Exception $e) {
    echo "rollback: ", get_class($e), ": ", $e->getMessage(), "\n";
}
var_dump(SiteLift\status($root));
var_dump(is_dir("$root/.sitelift/stage"));
sitelift_drop_tables($db, 'imp_');
sitelift_remove_dir($root);
?>
--EXPECT--
garbage: SiteLift\ArchiveException
empty: SiteLift\ArchiveException
plain text: SiteLift\ArchiveException
missing: SiteLift\IoException
rollback: SiteLift\StateException: there is no previous site to roll back to
array(0) {
}
bool(false)
