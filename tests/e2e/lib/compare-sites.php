<?php
/**
 * Compares two WordPress sites — database tables row by row and the files under their roots —
 * and says how they differ. Exit status: 0 identical, 1 different, 2 usage or connection error.
 *
 * Sites, either from `scripts/sites info` output:
 *   --sites-json=FILE|-         the JSON printed by `scripts/sites info` ("-" reads stdin)
 *   --source=NAME --dest=NAME   which entries of it to compare (default: source, destination;
 *                               `--dest=source` compares a site with itself)
 * or one by one (these override the JSON):
 *   --source-root=DIR --dest-root=DIR
 *   --source-db=JSON --dest-db=JSON    {"host":..,"port":..,"name":..,"user":..,"password":..}
 *                                      (the JSON itself, or @FILE)
 *   --source-prefix=wp_ --dest-prefix=wpd_
 *
 * What to leave out or allow for (each may be repeated, and takes comma-separated lists):
 *   --ignore-option=NAME      options (in <prefix>options) to skip; globs: --ignore-option='_transient_*'
 *   --ignore-table=NAME       tables, named without prefix (globs)
 *   --ignore-column=T.C       a column of a table named without prefix: --ignore-column=users.user_pass
 *   --ignore-file=PATTERN     files: a pattern with a "/" matches the path from the root
 *                             (wp-content/debug.log), one without matches the name anywhere (*.log)
 *   --ignore-dir=PATTERN      folders, the same way (.sitelift, wp-content/cache); their content too
 *   --replace=FROM=>TO        compare the source's values with FROM replaced by TO (in SQL, in
 *                             CHAR, VARCHAR, TEXT and JSON columns). A plain byte replacement:
 *                             serialized lengths only stay right when FROM and TO have the same
 *                             length (as the test sites' URLs do: 127.0.0.1:8081 and :8082).
 *   --replace-binary          replace in BINARY, VARBINARY and BLOB columns too
 *   --replace-site-url        with --sites-json: replace the source site's host:port (and its
 *                             URL-encoded form) by the destination's — what a migration rewrites
 *   --mtime=files|all|none    which modification times count (default files: regular files only)
 *   --no-db, --no-files       compare only one side of the sites
 *   --max-report=N            report at most N lines of each kind (default 20)
 *   --quiet                   print only the summary line
 *
 * Tables: every table named <source prefix>X maps to <dest prefix>X. Compared are the table's
 * engine, collation, columns (name, type, nullability, default, generation, collation) and
 * indexes, then the rows: an MD5 per row computed in SQL over every column (each as HEX of its
 * text, NULL as \N; generated columns are left out, their expressions being compared), matched
 * by primary key (or by a NOT NULL unique key; tables with neither are compared as multisets of
 * row hashes). When the prefixes differ, the source's
 * <prefix>user_roles option name and usermeta keys beginning with the prefix are mapped to the
 * destination prefix first. Files: both roots are walked without following links; compared are
 * type, permission bits, size, SHA-256, symlink target and (see --mtime) modification time.
 *
 * Prints a summary line last: "compare: 12 tables, 3456 rows, 789 files: identical" or
 * "compare: ...: N differences".
 */

ini_set('memory_limit', '4G');
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

final class UsageError extends Exception {}

// ----------------------------------------------------------------------------------- options

function parse_args(array $argv): array {
	$multi = ['ignore-option', 'ignore-table', 'ignore-column', 'ignore-file', 'ignore-dir', 'replace'];
	$flags = ['no-db', 'no-files', 'quiet', 'replace-site-url', 'replace-binary', 'help'];
	$known = array_merge($multi, $flags, ['sites-json', 'source', 'dest', 'source-root', 'dest-root', 'source-db', 'dest-db',
		'source-prefix', 'dest-prefix', 'mtime', 'max-report']);
	$o = array_fill_keys($multi, []);
	foreach (array_slice($argv, 1) as $arg) {
		if (!preg_match('/^--([a-z-]+)(?:=(.*))?$/s', $arg, $m) || !in_array($m[1], $known, true)) {
			throw new UsageError("unknown argument: $arg");
		}
		$k = $m[1];
		$v = $m[2] ?? null;
		if (in_array($k, $flags, true)) {
			$o[$k] = true;
		} elseif ($v === null) {
			throw new UsageError("--$k needs a value (--$k=...)");
		} elseif (in_array($k, $multi, true)) {
			foreach ($k === 'replace' ? [$v] : explode(',', $v) as $item) {
				if ($item !== '') {
					$o[$k][] = $item;
				}
			}
		} else {
			$o[$k] = $v;
		}
	}
	return $o;
}

function usage(): string {
	$src = file_get_contents(__FILE__);
	preg_match('#/\*\*(.*?)\*/#s', $src, $m);
	return trim(preg_replace('/^ \* ?/m', '', $m[1])) . "\n";
}

function json_arg(string $v, string $what): array {
	if (str_starts_with($v, '@')) {
		$v = @file_get_contents(substr($v, 1));
		if ($v === false) {
			throw new UsageError("cannot read $what file");
		}
	}
	$j = json_decode($v, true);
	if (!is_array($j)) {
		throw new UsageError("$what is not a JSON object");
	}
	return $j;
}

/** Builds the two site descriptions: [root, db (array|null), prefix, url]. */
function sites_from_options(array $o): array {
	$json = null;
	if (isset($o['sites-json'])) {
		$f = $o['sites-json'];
		if (preg_match('#^/(?:dev|proc/self)/fd/(\d+)$#', $f, $m)) {
			$f = "php://fd/{$m[1]}";  // bash process substitution: --sites-json=<(scripts/sites info)
		}
		$raw = $f === '-' ? stream_get_contents(STDIN) : @file_get_contents($f);
		if ($raw === false || !is_array($json = json_decode($raw, true))) {
			throw new UsageError("--sites-json: cannot read JSON from {$o['sites-json']}");
		}
	}
	$out = [];
	foreach (['source' => 'source', 'dest' => 'destination'] as $side => $default) {
		$name = $o[$side] ?? $default;
		$s = ['name' => $name, 'root' => null, 'db' => null, 'prefix' => null, 'url' => null];
		if ($json !== null) {
			if (!isset($json[$name]) || !is_array($json[$name])) {
				throw new UsageError("--sites-json has no site '$name'");
			}
			$j = $json[$name];
			$s['root'] = $j['root'] ?? null;
			$s['db'] = $j['db'] ?? null;
			$s['prefix'] = $j['table_prefix'] ?? null;
			$s['url'] = $j['url'] ?? null;
		}
		if (isset($o["$side-root"])) {
			$s['root'] = $o["$side-root"];
		}
		if (isset($o["$side-db"])) {
			$s['db'] = json_arg($o["$side-db"], "--$side-db");
		}
		if (isset($o["$side-prefix"])) {
			$s['prefix'] = $o["$side-prefix"];
		}
		if (!isset($s['name']) || $json === null) {
			$s['name'] = $side;
		}
		$out[$side] = $s;
	}
	return $out;
}

// ------------------------------------------------------------------------------------ output

/** Shows a string readably: control characters, backslashes and bytes that are not UTF-8 escaped. */
function show(?string $s, int $max = 100): string {
	if ($s === null) {
		return 'NULL';
	}
	$cut = false;
	if (strlen($s) > $max) {
		$s = substr($s, 0, $max);
		$cut = true;
	}
	$out = '';
	$len = strlen($s);
	for ($i = 0; $i < $len;) {
		if (preg_match('/\G(?:[\x20-\x5b\x5d-\x7e]+|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})/', $s, $m, 0, $i)) {
			$out .= $m[0];
			$i += strlen($m[0]);
			continue;
		}
		$c = $s[$i++];
		$out .= match ($c) { "\n" => '\n', "\r" => '\r', "\t" => '\t', '\\' => '\\\\', default => sprintf('\x%02x', ord($c)) };
	}
	return '"' . $out . '"' . ($cut ? '…' : '');
}

/** The two values around their first difference, abbreviated. */
function show_diff(?string $a, ?string $b): string {
	if ($a === null || $b === null) {
		return show($a) . ' ≠ ' . show($b);
	}
	$n = min(strlen($a), strlen($b));
	$i = 0;
	while ($i < $n && $a[$i] === $b[$i]) {
		$i++;
	}
	$from = max(0, $i - 30);
	$pre = $from > 0 ? "…(at byte $i) " : '';
	$lens = strlen($a) !== strlen($b) || strlen($a) > 100 ? sprintf(' (lengths %d, %d)', strlen($a), strlen($b)) : '';
	return $pre . show(substr($a, $from), 80) . ' ≠ ' . show(substr($b, $from), 80) . $lens;
}

/** Collects differences by kind (table, schema, row, file), printing at most $max lines of each. */
final class Report {
	public array $lines = [];
	public array $counts = [];
	public array $shown = [];
	public function __construct(private int $max) {}
	public function add(string $kind, string $line, int $count = 1): void {
		$this->counts[$kind] = ($this->counts[$kind] ?? 0) + $count;
		$this->line($kind, "  $line");
	}
	/** A table whose rows differ (always listed, up to 200 tables): counts its differing rows. */
	public function table(string $line, int $rows): void {
		$this->counts['row'] = ($this->counts['row'] ?? 0) + $rows;
		$this->line('row-table', "  $line", 200);
	}
	/** One example row under its table's line. */
	public function example(string $line): void { $this->line('row', "      $line"); }
	private function line(string $kind, string $line, ?int $max = null): void {
		$max ??= $this->max;
		$this->shown[$kind] = $this->shown[$kind] ?? 0;
		if ($this->shown[$kind] < $max) {
			$this->lines[] = $line;
		} elseif ($this->shown[$kind] === $max) {
			$this->lines[] = $kind === 'row' ? '      … more example rows not shown' : "  … more $kind differences not shown";
		}
		$this->shown[$kind]++;
	}
	public function total(): int { return array_sum($this->counts); }
}

// -------------------------------------------------------------------------------------- database

function connect(array $db, string $side): mysqli {
	foreach (['host', 'name', 'user'] as $k) {
		if (!isset($db[$k])) {
			throw new UsageError("$side database: missing \"$k\"");
		}
	}
	try {
		$c = new mysqli($db['host'], $db['user'], $db['password'] ?? '', $db['name'], (int) ($db['port'] ?? 3306), $db['socket'] ?? null);
		$c->set_charset('utf8mb4');
		$c->query("SET SESSION time_zone = '+00:00'");
		return $c;
	} catch (mysqli_sql_exception $e) {
		throw new UsageError("$side database {$db['name']}@{$db['host']}:" . ($db['port'] ?? 3306) . ': ' . $e->getMessage());
	}
}

function q(mysqli $c, string $s): string { return "'" . $c->real_escape_string($s) . "'"; }
function qi(string $name): string { return '`' . str_replace('`', '``', $name) . '`'; }
function like_escape(string $s): string { return addcslashes($s, '\\%_'); }
function glob_to_like(string $g): string { return strtr(like_escape($g), ['*' => '%', '?' => '_']); }

/** Base tables whose names begin with the prefix: suffix => [name, engine, collation]. */
function prefixed_tables(mysqli $c, string $prefix): array {
	$r = $c->query('SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()'
		. ' AND TABLE_NAME LIKE ' . q($c, like_escape($prefix) . '%') . ' ORDER BY TABLE_NAME');
	$out = [];
	foreach ($r->fetch_all(MYSQLI_ASSOC) as $t) {
		if (strncmp($t['TABLE_NAME'], $prefix, strlen($prefix)) === 0) {
			$out[substr($t['TABLE_NAME'], strlen($prefix))] = $t;
		}
	}
	return $out;
}

function columns(mysqli $c, string $table): array {
	$r = $c->query('SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, COLLATION_NAME'
		. ' FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ' . q($c, $table) . ' ORDER BY ORDINAL_POSITION');
	return $r->fetch_all(MYSQLI_ASSOC);
}

/** index name => [unique, [columns in order], all NOT NULL] */
function indexes(mysqli $c, string $table, array $cols): array {
	$nullable = [];
	foreach ($cols as $col) {
		$nullable[$col['COLUMN_NAME']] = $col['IS_NULLABLE'] === 'YES';
	}
	$r = $c->query('SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, SEQ_IN_INDEX FROM information_schema.STATISTICS'
		. ' WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ' . q($c, $table) . ' ORDER BY INDEX_NAME, SEQ_IN_INDEX');
	$out = [];
	foreach ($r->fetch_all(MYSQLI_ASSOC) as $i) {
		$n = $i['INDEX_NAME'];
		$out[$n] ??= ['unique' => !(int) $i['NON_UNIQUE'], 'cols' => [], 'notnull' => true, 'partial' => false];
		$out[$n]['cols'][] = $i['COLUMN_NAME'] . ($i['SUB_PART'] !== null ? "({$i['SUB_PART']})" : '');
		$out[$n]['notnull'] = $out[$n]['notnull'] && !($nullable[$i['COLUMN_NAME']] ?? true);
		$out[$n]['partial'] = $out[$n]['partial'] || $i['SUB_PART'] !== null;
	}
	return $out;
}

/** The key rows are matched by: the primary key, else a NOT NULL unique key, else none. */
function row_key(array $idx): ?array {
	if (isset($idx['PRIMARY'])) {
		return $idx['PRIMARY']['cols'];
	}
	foreach ($idx as $i) {
		if ($i['unique'] && $i['notnull'] && !$i['partial']) {
			return $i['cols'];
		}
	}
	return null;
}

const TEXT_TYPES = ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json'];
const BINARY_TYPES = ['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'];

function is_generated(array $col): bool {
	return ($col['GENERATION_EXPRESSION'] ?? null) !== null && $col['GENERATION_EXPRESSION'] !== ''
		|| stripos($col['EXTRA'], 'GENERATED') !== false;
}

/**
 * SQL for one column's value as compared: the source side gets the prefix mappings and the
 * --replace pairs applied.
 */
function column_expr(mysqli $c, string $suffix, array $col, bool $isSource, array $ctx): string {
	$e = qi($col['COLUMN_NAME']);
	if ($isSource) {
		$name = $col['COLUMN_NAME'];
		if ($ctx['map_prefix'] && $suffix === 'options' && $name === 'option_name') {
			$e = "IF($e = " . q($c, $ctx['sp'] . 'user_roles') . ', ' . q($c, $ctx['dp'] . 'user_roles') . ", $e)";
		} elseif ($ctx['map_prefix'] && $suffix === 'usermeta' && $name === 'meta_key') {
			$n = strlen($ctx['sp']);
			$e = "IF(LEFT($e, $n) = BINARY " . q($c, $ctx['sp']) . ', CONCAT(' . q($c, $ctx['dp']) . ", SUBSTRING($e, " . ($n + 1) . ")), $e)";
		}
		$type = strtolower($col['DATA_TYPE']);
		if ($ctx['replace'] && (in_array($type, TEXT_TYPES, true) || ($ctx['replace_binary'] && in_array($type, BINARY_TYPES, true)))) {
			foreach ($ctx['replace'] as [$from, $to]) {
				$e = "REPLACE($e, " . q($c, $from) . ', ' . q($c, $to) . ')';
			}
		}
	}
	return $e;
}

function row_hash_sql(mysqli $c, string $suffix, array $cols, bool $isSource, array $ctx): string {
	$parts = [];
	foreach ($cols as $col) {
		if (is_generated($col)) {
			continue;  // follows from the other columns and the (compared) generation expression
		}
		$parts[] = 'IFNULL(HEX(CONCAT(' . column_expr($c, $suffix, $col, $isSource, $ctx) . ")), '\\\\N')";
	}
	return "MD5(CONCAT_WS('|', " . implode(', ', $parts) . '))';
}

function where_for_table(mysqli $c, string $suffix, array $ctx, bool $isSource): string {
	if ($suffix === 'options' && $ctx['ignore_options']) {
		$conds = [];
		foreach ($ctx['ignore_options'] as $g) {
			$conds[] = 'option_name NOT LIKE ' . q($c, glob_to_like($g));
		}
		return ' WHERE ' . implode(' AND ', $conds);
	}
	return '';
}

function compare_table(mysqli $sc, mysqli $dc, string $suffix, array $st, array $dt, array $ctx, Report $rep): int {
	$sName = $st['TABLE_NAME'];
	$dName = $dt['TABLE_NAME'];
	$label = $suffix;
	$sCols = columns($sc, $sName);
	$dCols = columns($dc, $dName);
	$ignored = $ctx['ignore_columns'][$suffix] ?? [];
	$sCols = array_values(array_filter($sCols, fn ($c) => !in_array($c['COLUMN_NAME'], $ignored, true)));
	$dCols = array_values(array_filter($dCols, fn ($c) => !in_array($c['COLUMN_NAME'], $ignored, true)));

	// Schema.
	if ($st['ENGINE'] !== $dt['ENGINE']) {
		$rep->add('schema', "$label: engine {$st['ENGINE']} ≠ {$dt['ENGINE']}");
	}
	if ($st['TABLE_COLLATION'] !== $dt['TABLE_COLLATION']) {
		$rep->add('schema', "$label: collation {$st['TABLE_COLLATION']} ≠ {$dt['TABLE_COLLATION']}");
	}
	$sig = fn ($c) => "{$c['COLUMN_TYPE']}" . ($c['IS_NULLABLE'] === 'YES' ? ' NULL' : ' NOT NULL')
		. ($c['COLUMN_DEFAULT'] !== null ? " DEFAULT {$c['COLUMN_DEFAULT']}" : '') . ($c['EXTRA'] !== '' ? " {$c['EXTRA']}" : '')
		. ($c['GENERATION_EXPRESSION'] ? " AS ({$c['GENERATION_EXPRESSION']})" : '') . ($c['COLLATION_NAME'] ? " COLLATE {$c['COLLATION_NAME']}" : '');
	$sNames = array_column($sCols, 'COLUMN_NAME');
	$dNames = array_column($dCols, 'COLUMN_NAME');
	if ($sNames !== $dNames) {
		$rep->add('schema', "$label: columns (" . implode(', ', $sNames) . ') ≠ (' . implode(', ', $dNames) . ')');
		return count_rows($sc, $sName);
	}
	foreach ($sCols as $i => $c) {
		if ($sig($c) !== $sig($dCols[$i])) {
			$rep->add('schema', "$label.{$c['COLUMN_NAME']}: " . $sig($c) . ' ≠ ' . $sig($dCols[$i]));
		}
	}
	$sIdx = indexes($sc, $sName, $sCols);
	$dIdx = indexes($dc, $dName, $dCols);
	$idxSig = function (array $idx): array {
		$o = [];
		foreach ($idx as $n => $i) {
			$o[$n] = ($i['unique'] ? 'UNIQUE ' : '') . '(' . implode(', ', $i['cols']) . ')';
		}
		ksort($o);
		return $o;
	};
	if ($idxSig($sIdx) !== $idxSig($dIdx)) {
		$a = $idxSig($sIdx);
		$b = $idxSig($dIdx);
		foreach (array_unique(array_merge(array_keys($a), array_keys($b))) as $n) {
			if (($a[$n] ?? null) !== ($b[$n] ?? null)) {
				$rep->add('schema', "$label: index $n " . ($a[$n] ?? '(none)') . ' ≠ ' . ($b[$n] ?? '(none)'));
			}
		}
	}

	// Rows.
	$key = row_key($sIdx);
	if ($key !== null && row_key($dIdx) !== $key) {
		$key = null;  // keys differ (reported above): fall back to multisets
	}
	$keyCols = $key === null ? [] : array_map(fn ($k) => preg_replace('/\(\d+\)$/', '', $k), $key);
	$sHash = row_hash_sql($sc, $suffix, $sCols, true, $ctx);
	$dHash = row_hash_sql($dc, $suffix, $dCols, false, $ctx);
	$sWhere = where_for_table($sc, $suffix, $ctx, true);
	$dWhere = where_for_table($dc, $suffix, $ctx, false);
	$rows = 0;
	if ($keyCols) {
		$kSql = implode(', ', array_map('qi', $keyCols));
		$src = [];
		$r = $sc->query("SELECT $kSql, $sHash FROM " . qi($sName) . "$sWhere ORDER BY $kSql", MYSQLI_USE_RESULT);
		while ($row = $r->fetch_row()) {
			$h = array_pop($row);
			$src[implode("\x1f", $row)] = $h;
			$rows++;
		}
		$r->free();
		$differ = [];
		$onlyDest = [];
		$r = $dc->query("SELECT $kSql, $dHash FROM " . qi($dName) . "$dWhere ORDER BY $kSql", MYSQLI_USE_RESULT);
		while ($row = $r->fetch_row()) {
			$h = array_pop($row);
			$k = implode("\x1f", $row);
			if (!isset($src[$k])) {
				$onlyDest[] = $row;
			} else {
				if ($src[$k] !== $h) {
					$differ[] = $row;
				}
				unset($src[$k]);
			}
		}
		$r->free();
		$show = fn (array $vals) => implode(', ', array_map(fn ($c, $v) => "$c=" . show($v, 60), $keyCols, $vals));
		$n = count($differ) + count($src) + count($onlyDest);
		if ($n) {
			$rep->table("$label: " . implode(', ', array_filter([$differ ? count($differ) . ' rows differ' : '',
				$src ? count($src) . ' only in source' : '', $onlyDest ? count($onlyDest) . ' only in destination' : ''])) . " (of $rows in source)", $n);
		}
		$examples = 0;
		foreach ($differ as $vals) {
			if ($examples++ >= $ctx['per_table']) {
				break;
			}
			$rep->example("$label [" . $show($vals) . ']: ' . describe_row_diff($sc, $dc, $sName, $dName, $suffix, $keyCols, $vals, $sCols, $ctx));
		}
		foreach (array_keys($src) as $k) {
			if ($examples++ >= $ctx['per_table']) {
				break;
			}
			$rep->example("$label [" . $show(explode("\x1f", $k)) . ']: only in source');
		}
		foreach ($onlyDest as $vals) {
			if ($examples++ >= $ctx['per_table']) {
				break;
			}
			$rep->example("$label [" . $show($vals) . ']: only in destination');
		}
	} else {
		$count = function (mysqli $c, string $t, string $h, string $w) use (&$rows): array {
			$m = [];
			$r = $c->query("SELECT $h AS h, COUNT(*) FROM " . qi($t) . "$w GROUP BY h ORDER BY h", MYSQLI_USE_RESULT);
			while ($row = $r->fetch_row()) {
				$m[$row[0]] = (int) $row[1];
			}
			$r->free();
			return $m;
		};
		$a = $count($sc, $sName, $sHash, $sWhere);
		$rows = array_sum($a);
		$b = $count($dc, $dName, $dHash, $dWhere);
		$odd = [];
		foreach ($a + $b as $h => $_) {
			if (($a[$h] ?? 0) !== ($b[$h] ?? 0)) {
				$odd[] = $h;
			}
		}
		if ($odd) {
			$extraS = array_sum(array_map(fn ($h) => max(0, ($a[$h] ?? 0) - ($b[$h] ?? 0)), $odd));
			$extraD = array_sum(array_map(fn ($h) => max(0, ($b[$h] ?? 0) - ($a[$h] ?? 0)), $odd));
			$rep->table("$label (no unique key, rows compared as a multiset): $extraS rows only in source, $extraD only in destination (of $rows in source)", $extraS + $extraD);
		}
		foreach (array_slice($odd, 0, $ctx['per_table']) as $h) {
			$na = $a[$h] ?? 0;
			$nb = $b[$h] ?? 0;
			$w = $na > $nb ? [$sc, $sName, $sHash, $sCols, true] : [$dc, $dName, $dHash, $dCols, false];
			$rep->example("$label row " . ($na > $nb ? 'in source' : 'in destination') . " {$na}× vs {$nb}×: " . sample_row($w[0], $w[1], $w[2], $h, $suffix, $w[3], $w[4], $ctx));
		}
	}
	return $rows;
}

function count_rows(mysqli $c, string $t): int {
	return (int) $c->query('SELECT COUNT(*) FROM ' . qi($t))->fetch_row()[0];
}

/** One row with the given hash, its values shown as compared (after any replacements). */
function sample_row(mysqli $c, string $t, string $hashSql, string $h, string $suffix, array $cols, bool $isSource, array $ctx): string {
	$sel = [];
	foreach ($cols as $col) {
		if (!is_generated($col)) {
			$sel[] = column_expr($c, $suffix, $col, $isSource, $ctx) . ' AS ' . qi($col['COLUMN_NAME']);
		}
	}
	$r = $c->query('SELECT ' . implode(', ', $sel) . ' FROM ' . qi($t) . " WHERE $hashSql = " . q($c, $h) . ' LIMIT 1')->fetch_assoc();
	if (!$r) {
		return '(row not found)';
	}
	$parts = [];
	foreach ($r as $k => $v) {
		$parts[] = "$k=" . show($v, 40);
	}
	return implode(' ', $parts);
}

/** Fetches both versions of a row (as compared) and names the columns that differ. */
function describe_row_diff(mysqli $sc, mysqli $dc, string $sName, string $dName, string $suffix, array $keyCols, array $vals, array $cols, array $ctx): string {
	$fetch = function (mysqli $c, string $t, bool $isSource) use ($suffix, $keyCols, $vals, $cols, $ctx): ?array {
		$sel = [];
		foreach ($cols as $col) {
			$sel[] = column_expr($c, $suffix, $col, $isSource, $ctx) . ' AS ' . qi($col['COLUMN_NAME']);
		}
		$w = [];
		foreach ($keyCols as $i => $k) {
			$w[] = qi($k) . ' = ' . q($c, $vals[$i]);
		}
		return $c->query('SELECT ' . implode(', ', $sel) . ' FROM ' . qi($t) . ' WHERE ' . implode(' AND ', $w) . ' LIMIT 1')->fetch_assoc();
	};
	$a = $fetch($sc, $sName, true);
	$b = $fetch($dc, $dName, false);
	if (!$a || !$b) {
		return 'changed while comparing';
	}
	$out = [];
	foreach ($a as $k => $v) {
		if ($v !== $b[$k]) {
			$out[] = "$k: " . show_diff($v, $b[$k]);
		}
	}
	return $out ? implode('; ', $out) : 'hash differs';
}

function compare_db(array $S, array $D, array $o, Report $rep, array &$stats): void {
	if (!$S['db'] || !$D['db']) {
		throw new UsageError('database details missing (give --sites-json or --source-db/--dest-db, or --no-db)');
	}
	$sp = $S['prefix'] ?? 'wp_';
	$dp = $D['prefix'] ?? 'wp_';
	$sc = connect($S['db'], 'source');
	$dc = connect($D['db'], 'destination');
	$replace = [];
	foreach ($o['replace'] as $r) {
		$p = strpos($r, '=>');
		if ($p === false || $p === 0) {
			throw new UsageError("--replace wants FROM=>TO, got: $r");
		}
		$replace[] = [substr($r, 0, $p), substr($r, $p + 2)];
	}
	if (!empty($o['replace-site-url'])) {
		if (!$S['url'] || !$D['url']) {
			throw new UsageError('--replace-site-url needs the sites\' URLs (--sites-json)');
		}
		$a = preg_replace('#^https?://#', '', rtrim($S['url'], '/'));
		$b = preg_replace('#^https?://#', '', rtrim($D['url'], '/'));
		if ($a !== $b) {
			$replace[] = [$a, $b];
			$replace[] = [rawurlencode($a), rawurlencode($b)];
		}
	}
	$ignoredCols = [];
	foreach ($o['ignore-column'] as $tc) {
		if (!preg_match('/^([^.]+)\.(.+)$/', $tc, $m)) {
			throw new UsageError("--ignore-column wants TABLE.COLUMN, got: $tc");
		}
		$ignoredCols[$m[1]][] = $m[2];
	}
	$ctx = ['sp' => $sp, 'dp' => $dp, 'map_prefix' => $sp !== $dp, 'replace' => $replace,
		'replace_binary' => !empty($o['replace-binary']), 'ignore_options' => $o['ignore-option'], 'ignore_columns' => $ignoredCols, 'per_table' => max(1, min(3, (int) ($o['max-report'] ?? 20)))];
	$sT = prefixed_tables($sc, $sp);
	$dT = prefixed_tables($dc, $dp);
	$skip = function (string $suffix) use ($o): bool {
		foreach ($o['ignore-table'] as $g) {
			if (fnmatch($g, $suffix)) {
				return true;
			}
		}
		return false;
	};
	foreach ($sT as $suffix => $t) {
		if ($skip($suffix)) {
			continue;
		}
		if (!isset($dT[$suffix])) {
			$rep->add('table', "table $sp$suffix: only in source (no $dp$suffix)");
			continue;
		}
		if ($t['TABLE_TYPE'] !== $dT[$suffix]['TABLE_TYPE']) {
			$rep->add('table', "table $suffix: {$t['TABLE_TYPE']} ≠ {$dT[$suffix]['TABLE_TYPE']}");
			continue;
		}
		if ($t['TABLE_TYPE'] !== 'BASE TABLE') {
			$stats['tables']++;
			continue;  // views: their definitions are not compared
		}
		$stats['tables']++;
		$stats['rows'] += compare_table($sc, $dc, $suffix, $t, $dT[$suffix], $ctx, $rep);
	}
	foreach ($dT as $suffix => $t) {
		if (!isset($sT[$suffix]) && !$skip($suffix)) {
			$rep->add('table', "table $dp$suffix: only in destination");
		}
	}
}

// ----------------------------------------------------------------------------------------- files

function path_ignored(string $rel, string $name, array $patterns): bool {
	foreach ($patterns as $p) {
		$p = trim($p, '/');
		if (str_contains($p, '/') ? fnmatch($p, $rel, FNM_PATHNAME) : fnmatch($p, $name)) {
			return true;
		}
	}
	return false;
}

/** rel path => [type, perms, size, mtime, link target] for everything under $root (links not followed). */
function walk(string $root, array $o): array {
	$out = [];
	$stack = [''];
	while ($stack) {
		$rel = array_pop($stack);
		$dir = $rel === '' ? $root : "$root/$rel";
		$h = @opendir($dir);
		if ($h === false) {
			$out[$rel === '' ? '.' : $rel]['error'] = 'cannot open folder';
			continue;
		}
		while (($name = readdir($h)) !== false) {
			if ($name === '.' || $name === '..') {
				continue;
			}
			$r = $rel === '' ? $name : "$rel/$name";
			$st = @lstat("$root/$r");
			if ($st === false) {
				$out[$r] = ['type' => '?', 'perms' => 0, 'size' => 0, 'mtime' => 0, 'target' => null];
				continue;
			}
			$fmt = $st['mode'] & 0170000;
			$type = match ($fmt) { 0100000 => 'file', 0040000 => 'dir', 0120000 => 'link', default => sprintf('special(%o)', $fmt) };
			if ($type === 'dir' ? path_ignored($r, $name, $o['ignore-dir']) : path_ignored($r, $name, $o['ignore-file'])) {
				continue;
			}
			$out[$r] = ['type' => $type, 'perms' => $st['mode'] & 07777, 'size' => $type === 'file' ? $st['size'] : 0,
				'mtime' => $st['mtime'], 'target' => $type === 'link' ? readlink("$root/$r") : null];
			if ($type === 'dir') {
				$stack[] = $r;
			}
		}
		closedir($h);
	}
	ksort($out, SORT_STRING);
	return $out;
}

function compare_files(array $S, array $D, array $o, Report $rep, array &$stats): void {
	foreach ([$S, $D] as $s) {
		if (!$s['root'] || !is_dir($s['root'])) {
			throw new UsageError("site root missing or not a folder: " . ($s['root'] ?? '(none)') . ' (give --sites-json or --source-root/--dest-root, or --no-files)');
		}
	}
	$sr = rtrim($S['root'], '/');
	$dr = rtrim($D['root'], '/');
	$a = walk($sr, $o);
	$b = walk($dr, $o);
	$mtime = $o['mtime'] ?? 'files';
	if (!in_array($mtime, ['files', 'all', 'none'], true)) {
		throw new UsageError('--mtime must be files, all or none');
	}
	$stats['files'] = count($a);
	foreach ($a as $rel => $x) {
		$p = show((string) $rel, 200);
		if (!isset($b[$rel])) {
			$rep->add('file', "$p: only in source ({$x['type']})");
			continue;
		}
		$y = $b[$rel];
		$d = [];
		if ($x['type'] !== $y['type']) {
			$rep->add('file', "$p: {$x['type']} ≠ {$y['type']}");
			continue;
		}
		if ($x['type'] !== 'link' && $x['perms'] !== $y['perms']) {
			$d[] = sprintf('mode %04o ≠ %04o', $x['perms'], $y['perms']);
		}
		if ($x['type'] === 'link' && $x['target'] !== $y['target']) {
			$d[] = 'target ' . show($x['target']) . ' ≠ ' . show($y['target']);
		}
		if ($x['type'] === 'file') {
			if ($x['size'] !== $y['size']) {
				$d[] = "size {$x['size']} ≠ {$y['size']}";
			} elseif (@hash_file('sha256', "$sr/$rel") !== @hash_file('sha256', "$dr/$rel")) {
				$d[] = 'content (SHA-256) differs';
			}
		}
		if (($mtime === 'all' || ($mtime === 'files' && $x['type'] === 'file')) && $x['mtime'] !== $y['mtime']) {
			$d[] = 'mtime ' . gmdate('Y-m-d H:i:s', $x['mtime']) . ' ≠ ' . gmdate('Y-m-d H:i:s', $y['mtime']);
		}
		if ($d) {
			$rep->add('file', "$p: " . implode(', ', $d));
		}
	}
	foreach ($b as $rel => $y) {
		if (!isset($a[$rel])) {
			$rep->add('file', show((string) $rel, 200) . ": only in destination ({$y['type']})");
		}
	}
}

// ------------------------------------------------------------------------------------------ main

function main(array $argv): int {
	try {
		$o = parse_args($argv);
		if (!empty($o['help'])) {
			echo usage();
			return 0;
		}
		$sites = sites_from_options($o);
		$S = $sites['source'];
		$D = $sites['dest'];
		$max = (int) ($o['max-report'] ?? 20);
		$rep = new Report(max(1, $max));
		$stats = ['tables' => 0, 'rows' => 0, 'files' => 0];
		$quiet = !empty($o['quiet']);
		if (!$quiet) {
			foreach (['source' => $S, 'dest  ' => $D] as $label => $s) {
				$db = $s['db'] ? "{$s['db']['name']}@{$s['db']['host']}:" . ($s['db']['port'] ?? 3306) : '-';
				echo "compare: $label root=" . ($s['root'] ?? '-') . " db=$db prefix=" . ($s['prefix'] ?? '-') . "\n";
			}
		}
		if (empty($o['no-db'])) {
			compare_db($S, $D, $o, $rep, $stats);
		}
		if (empty($o['no-files'])) {
			compare_files($S, $D, $o, $rep, $stats);
		}
	} catch (UsageError $e) {
		fwrite(STDERR, 'compare-sites: ' . $e->getMessage() . "\n");
		return 2;
	} catch (mysqli_sql_exception $e) {
		fwrite(STDERR, 'compare-sites: SQL error: ' . $e->getMessage() . "\n");
		return 2;
	}
	$what = "{$stats['tables']} tables, {$stats['rows']} rows, {$stats['files']} files";
	if ($rep->total() === 0) {
		echo "compare: $what: identical\n";
		return 0;
	}
	if (!$quiet) {
		echo "differences:\n" . implode("\n", $rep->lines) . "\n";
	}
	$names = ['table' => 'tables', 'schema' => 'schema', 'row' => 'rows', 'file' => 'files'];
	$parts = [];
	foreach ($rep->counts as $k => $n) {
		$parts[] = "$n " . ($names[$k] ?? $k);
	}
	echo "compare: $what: {$rep->total()} differences (" . implode(', ', $parts) . ")\n";
	return 1;
}

exit(main($argv));
