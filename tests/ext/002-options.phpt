--TEST--
Bad options are refused with ValueError or TypeError before anything happens
--EXTENSIONS--
sitelift
--FILE--
<?php
$db = ['host' => '127.0.0.1:1', 'user' => 'u', 'password' => 'p', 'name' => 'n'];
$cases = [
    'unknown option' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => $db, 'colour' => 'red']),
    'missing path' => fn() => SiteLift\export(['output' => '/dev/null', 'db' => $db]),
    'missing db' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null']),
    'db user missing' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => ['name' => 'x']]),
    'path not a string' => fn() => SiteLift\import(['path' => 42, 'input' => 'x', 'db' => $db]),
    'bad flag type' => fn() => SiteLift\import(['path' => '/', 'input' => 'x', 'db' => $db, 'rewrite' => 'yes']),
    'threads out of range' => fn() => SiteLift\import(['path' => '/', 'input' => 'x', 'db' => $db, 'threads' => 0]),
    'exclude not strings' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => $db, 'exclude' => [1]]),
    'progress not callable' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => $db, 'progress' => 'no_such_function']),
    'bad compression' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => $db, 'compress' => 'lzma']),
    'level out of range' => fn() => SiteLift\export(['path' => '/', 'output' => '/dev/null', 'db' => $db, 'level' => -51]),
];
foreach ($cases as $name => $call) {
    try {
        $call();
        echo "$name: no error\n";
    } catch (Throwable $e) {
        echo "$name: ", get_class($e), ": ", $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
unknown option: ValueError: SiteLift\export(): Argument #1 ($options) has an unknown option "colour"
missing path: ValueError: SiteLift\export(): Argument #1 ($options) must contain "path"
missing db: ValueError: SiteLift\export(): Argument #1 ($options) must contain "db" as an array
db user missing: ValueError: SiteLift\export(): Argument #1 ($options) must contain "user"
path not a string: TypeError: SiteLift\import(): Argument #1 ($options) option "path" must be a string
bad flag type: TypeError: SiteLift\import(): Argument #1 ($options) option "rewrite" must be a bool
threads out of range: ValueError: SiteLift\import(): Argument #1 ($options) option "threads" must be between 1 and 16
exclude not strings: TypeError: SiteLift\export(): Argument #1 ($options) option "exclude" must hold only strings
progress not callable: TypeError: SiteLift\export(): Argument #1 ($options) option "progress" must be a valid callback, function "no_such_function" not found or invalid function name
bad compression: SiteLift\UsageException: unknown compression 'lzma' (expected none, gzip or zstd)
level out of range: ValueError: SiteLift\export(): Argument #1 ($options) option "level" must be between -50 and 22
