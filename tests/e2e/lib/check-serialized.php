<?php
/**
 * Scans every text and binary-string column of every table of a site's database for PHP-serialized values and
 * checks that each one still unserializes; also counts values that still hold any of the given strings.
 *
 *   php check-serialized.php --db=JSON --prefix=wpd_ [--forbid=STRING]... [--skip-column=posts.guid]...
 * Exit 0 when all serialized values unserialize and no forbidden string is found.
 */
$opts = getopt('', ['db:', 'prefix:', 'forbid:', 'skip-column:']);
$db = json_decode($opts['db'], true);
$prefix = $opts['prefix'];
$forbid = (array) ($opts['forbid'] ?? []);
$skip = (array) ($opts['skip-column'] ?? []);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$m = new mysqli($db['host'], $db['user'], $db['password'], $db['name'], (int) $db['port']);
$m->set_charset('utf8mb4');
$like = $m->real_escape_string(addcslashes($prefix, '%_\\')) . '%';
$columns = $m->query("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    AND TABLE_NAME LIKE '$like' AND DATA_TYPE IN ('char','varchar','tinytext','text','mediumtext','longtext','json',
    'binary','varbinary','tinyblob','blob','mediumblob','longblob')
    ORDER BY TABLE_NAME, ORDINAL_POSITION")->fetch_all();
$serialized = 0;
$broken = [];
$found = [];
foreach ($columns as [$table, $column]) {
    $short = substr($table, strlen($prefix)) . '.' . $column;
    if (in_array($short, $skip, true)) {
        continue;
    }
    $res = $m->query("SELECT `$column` FROM `$table`", MYSQLI_USE_RESULT);
    while ($row = $res->fetch_row()) {
        $v = $row[0];
        if ($v === null) continue;
        foreach ($forbid as $f) {
            if (str_contains($v, $f)) {
                $found[] = "$short holds '$f': " . substr($v, max(0, strpos($v, $f) - 40), 120);
            }
        }
        if (preg_match('/^(a:\d+:\{|O:\d+:"|s:\d+:"|i:-?\d+;|b:[01];|d:|N;)/', $v)) {
            ++$serialized;
            if ($v !== 'b:0;' && @unserialize($v, ['allowed_classes' => false]) === false) {
                $broken[] = "$short: " . substr($v, 0, 120);
            }
        }
    }
    $res->free();
}
foreach (array_slice($broken, 0, 10) as $b) echo "  does not unserialize: $b\n";
foreach (array_slice($found, 0, 10) as $f) echo "  still there: $f\n";
printf("check-serialized: %d serialized values, %d broken, %d forbidden strings found\n", $serialized, count($broken), count($found));
exit($broken || $found ? 1 : 0);
