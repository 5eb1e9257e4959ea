--TEST--
The database password never appears in an exception message or a backtrace
--EXTENSIONS--
sitelift
--INI--
zend.exception_ignore_args=0
--FILE--
<?php
$secret = 'pw-' . bin2hex(random_bytes(8));
$db = ['host' => '127.0.0.1:1', 'user' => 'nobody', 'password' => $secret, 'name' => 'nothing'];
$root = sys_get_temp_dir() . '/sitelift-003-' . getmypid();
@mkdir($root);
foreach (['export', 'import', 'rollback', 'cleanup'] as $fn) {
    $options = ['path' => $root, 'db' => $db];
    if ($fn === 'export') $options['output'] = sys_get_temp_dir() . '/sitelift-003.tar';
    if ($fn === 'import') $options['input'] = __FILE__;
    try {
        ("SiteLift\\$fn")($options);
        echo "$fn: no error\n";
    } catch (SiteLift\Exception $e) {
        $all = $e->getMessage() . "\n" . $e->getTraceAsString() . "\n" . print_r($e->getTrace(), true) . (string) $e;
        echo $fn, ': ', get_class($e), ' ', var_export(str_contains($all, $secret), true), ' ',
            get_class($e->getTrace()[0]['args'][0]), "\n";
    }
}
@unlink(sys_get_temp_dir() . '/sitelift-003.tar');
foreach (['.htaccess', 'index.php', 'lock'] as $f) @unlink("$root/.sitelift/$f");
@rmdir("$root/.sitelift");
@rmdir($root);
?>
--EXPECT--
export: SiteLift\DatabaseException false SensitiveParameterValue
import: SiteLift\DatabaseException false SensitiveParameterValue
rollback: SiteLift\DatabaseException false SensitiveParameterValue
cleanup: SiteLift\DatabaseException false SensitiveParameterValue
