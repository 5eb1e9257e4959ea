--TEST--
export() and import() round trip a small site; progress reaches PHP; a throwing progress callback cancels cleanly
--EXTENSIONS--
sitelift
--SKIPIF--
<?php if (!getenv('SITELIFT_TEST_DB_HOST')) die('skip SITELIFT_TEST_DB_* not set (scripts/test sets them)'); ?>
--FILE--
<?php
require __DIR__ . '/lib/testdb.inc';
$db = sitelift_test_db();
sitelift_drop_tables($db, 'rt5src_');
sitelift_drop_tables($db, 'rt5dst_');

// A tiny source site: files and an options table with the source's URL inside serialized data.
$src = sitelift_temp_dir();
$dst = sitelift_temp_dir();
mkdir("$src/wp-content/uploads/2024", 0755, true);
file_put_contents("$src/index.php", "<?php // source\n");
file_put_contents("$src/wp-config.php", "<?php // source config\n");
file_put_contents("$src/wp-content/uploads/2024/emoji 🚀.txt", str_repeat("x", 100000));
symlink('2024', "$src/wp-content/uploads/latest");
chmod("$src/index.php", 0640);
touch("$src/index.php", 1600000000);
sitelift_make_options_table($db, 'rt5src_', 'http://source.test');
sitelift_sql($db, "INSERT INTO rt5src_options (option_name, option_value) VALUES ('widget', " .
    sitelift_quote(serialize(['url' => 'http://source.test/page', 'n' => 1])) . ")");
file_put_contents("$dst/wp-config.php", "<?php // destination config\n");
file_put_contents("$dst/index.php", "<?php // destination\n");
sitelift_make_options_table($db, 'rt5dst_', 'http://dest.test');

$phases = [];
$archive = "$src.tar.zst";
$r = SiteLift\export(['path' => $src, 'output' => $archive, 'db' => $db, 'table_prefix' => 'rt5src_',
    'progress' => function (array $p) use (&$phases) { $phases[$p['phase']] = true; }]);
echo "export: {$r['tables']} table, {$r['rows']} rows, {$r['files']} files, {$r['symlinks']} symlink\n";
echo 'export phases: ', implode(',', array_keys($phases)), "\n";

// A progress callback that throws stops the import; the exception arrives unchanged and nothing is left.
try {
    SiteLift\import(['path' => $dst, 'input' => $archive, 'db' => $db, 'table_prefix' => 'rt5dst_',
        'progress' => function () { throw new LogicException('stop here'); }]);
} catch (LogicException $e) {
    echo 'cancelled: ', $e->getMessage(), "\n";
}
echo 'after cancel: ', file_get_contents("$dst/index.php");
var_dump(is_dir("$dst/.sitelift/stage"));
var_dump(count(sitelift_sql($db, "SHOW TABLES LIKE 'sl\\_stage\\_%'")));

$phases = [];
$r = SiteLift\import(['path' => $dst, 'input' => $archive, 'db' => $db, 'table_prefix' => 'rt5dst_',
    'progress' => function (array $p) use (&$phases) { $phases[$p['phase']] = true; }]);
echo "import: {$r['tables']} table, {$r['rows']} rows, {$r['files']} files, {$r['values_changed']} values rewritten\n";
echo 'import phases: ', implode(',', array_keys($phases)), "\n";
echo file_get_contents("$dst/index.php");
echo file_get_contents("$dst/wp-config.php");
printf("%o %d\n", fileperms("$dst/index.php") & 0777, filemtime("$dst/index.php"));
echo readlink("$dst/wp-content/uploads/latest"), "\n";
echo strlen(file_get_contents("$dst/wp-content/uploads/latest/emoji 🚀.txt")), "\n";
$rows = sitelift_sql($db, "SELECT option_name, option_value FROM rt5dst_options ORDER BY option_id");
foreach ($rows as [$k, $v]) echo "$k = $v\n";
echo json_encode(SiteLift\status($dst)['phase']), "\n";

SiteLift\rollback(['path' => $dst, 'db' => $db, 'table_prefix' => 'rt5dst_']);
echo 'after rollback: ', file_get_contents("$dst/index.php");
echo sitelift_sql($db, "SELECT option_value FROM rt5dst_options WHERE option_name = 'home'")[0][0], "\n";
var_dump(file_exists("$dst/wp-content"));
var_dump(SiteLift\status($dst));

sitelift_drop_tables($db, 'rt5src_');
sitelift_drop_tables($db, 'rt5dst_');
sitelift_remove_dir($src);
sitelift_remove_dir($dst);
unlink($archive);
?>
--EXPECT--
export: 1 table, 3 rows, 2 files, 1 symlink
export phases: database,files
cancelled: stop here
after cancel: <?php // destination
bool(false)
int(0)
import: 1 table, 3 rows, 2 files, 3 values rewritten
import phases: restore,verify,finalize,swap
<?php // source
<?php // destination config
640 1600000000
2024
100000
home = http://dest.test
siteurl = http://dest.test
widget = a:2:{s:3:"url";s:21:"http://dest.test/page";s:1:"n";i:1;}
"swapped"
after rollback: <?php // destination
http://dest.test
bool(false)
array(0) {
}
