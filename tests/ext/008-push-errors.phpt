--TEST--
Pushing: a malformed token is refused without being quoted, an unreachable destination is retried later, cancel forgets
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
mkdir("$root/wp-content");
file_put_contents("$root/wp-content/hello.txt", "hello\n");
sitelift_make_options_table($db, 'psh_', 'http://src.test');
$opts = ['path' => $root, 'db' => $db, 'table_prefix' => 'psh_', 'site_name' => 'dest'];

var_dump(SiteLift\push_status($root));
$secretish = 'sl1.eyJub3QiOiJ2YWxpZCJ9.THIS-IS-NOT-A-REAL-SECRET-BUT-LOOKS-LIKE-ONE-xx';
try {
    SiteLift\push($opts + ['token' => $secretish]);
} catch (SiteLift\UsageException $e) {
    echo get_class($e), "\n";
    var_dump(str_contains($e->getMessage(), 'THIS-IS-NOT'), str_contains($e->getMessage(), 'malformed'));
    var_dump($e->getTrace()[0]['args'][0] instanceof SensitiveParameterValue);
}
try {
    SiteLift\push_step($opts + ['token' => 'x', 'progress' => 'var_dump']);
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}

// A token for a port nobody listens on: the step ends early and says it will retry.
$dest = sitelift_temp_dir();
file_put_contents("$dest/wp-config.php", "<?php\n");
sitelift_make_options_table($db, 'pshd_', 'http://127.0.0.1:9');
$token = SiteLift\token_create(['path' => $dest, 'db' => $db, 'table_prefix' => 'pshd_'],
    ['url' => 'http://127.0.0.1:9', 'site_name' => 'dest', 'ttl' => 600])['token'];
$st = SiteLift\push_step($opts + ['token' => $token], 1.0);
var_dump($st['phase'], str_contains($st['retry'], 'cannot reach the destination'), $st['files'] >= 2);
var_dump(str_contains(json_encode($st), explode('.', $token)[2]));
var_dump(is_file("$root/.sitelift/push/state.json"));
var_dump(str_contains(file_get_contents("$root/.sitelift/push/log.txt"), explode('.', $token)[2]));

// A second token while the first push is unfinished is refused; cancel forgets the push.
$token2 = SiteLift\token_create(['path' => $dest, 'db' => $db, 'table_prefix' => 'pshd_'],
    ['url' => 'http://127.0.0.1:9', 'site_name' => 'dest', 'ttl' => 600])['token'];
try {
    SiteLift\push_step($opts + ['token' => $token2], 1.0);
} catch (SiteLift\StateException $e) {
    echo get_class($e), ": ", $e->getMessage(), "\n";
}
SiteLift\push_cancel($root);
var_dump(SiteLift\push_status($root)['phase']);
$st = SiteLift\push_step($opts + ['token' => $token2], 1.0);
var_dump($st['phase'], $st['fingerprint'] !== '');

SiteLift\cleanup(['path' => $dest, 'db' => $db, 'table_prefix' => 'pshd_']);
sitelift_drop_tables($db, 'psh_');
sitelift_drop_tables($db, 'pshd_');
sitelift_remove_dir($root);
sitelift_remove_dir($dest);
?>
--EXPECT--
array(0) {
}
SiteLift\UsageException
bool(false)
bool(true)
bool(true)
SiteLift\push_step(): Argument #1 ($options) option "progress" is for push() only
string(9) "handshake"
bool(true)
bool(true)
bool(false)
bool(true)
bool(false)
SiteLift\StateException: a push with another machine token is in progress from this site; cancel it first (or restart)
string(9) "cancelled"
string(9) "handshake"
bool(true)
