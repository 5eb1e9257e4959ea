--TEST--
SiteLift\rewrite(): serialized lengths, nesting, keys, boundaries, escaped forms of one pair, base64 blocks, unsafe values left alone
--EXTENSIONS--
sitelift
--FILE--
<?php
$old = 'https://old.example';
$new = 'https://new.example.org';
$pairs = [$old => $new, 'https:\/\/old.example' => 'https:\/\/new.example.org'];
$show = function (string $label, string $in) use ($pairs) {
    $out = SiteLift\rewrite($in, $pairs);
    // A changed serialized value must still unserialize; an unchanged one is whatever it was.
    $ok = $out === $in || @unserialize($out) !== false || !preg_match('/^[aOs]:\d/', $out);
    echo str_pad($label, 22), str_replace("\0", '\0', $out), $ok ? '' : '   <-- broken', "\n";
};
$show('plain', "see $old/page and $old.");
$show('boundary .au', "$old.au/x");
$show('boundary -cdn', "$old-cdn.net/x");
$show('boundary port', "$old:8080/x");
$show('boundary prefix', 'https://notold.example/x');
$show('serialized', serialize(['url' => "$old/a", 'n' => 5]));
$show('emoji length', serialize("🚀 $old/🚀"));
$show('nested', serialize(['inner' => serialize(['deeper' => serialize("$old/x")])]));
$show('array key', serialize(["$old/" => 'home']));
$show('json escaped', json_encode(['u' => "$old/x"]));
class Keep { private $p = 'https://old.example/p'; protected $q = 'x'; }
$show('private property', serialize(new Keep));
$show('corrupt', 'a:1:{s:3:"url";s:99:"' . $old . '/x";}');
// Page builders' base64 blocks: decoded, rewritten, encoded again (shown decoded).
$block = function (string $label, string $open, string $close, callable $enc, callable $dec) use ($pairs, $old) {
    $out = SiteLift\rewrite($open . $enc("<script src=\"$old/a.js\"></script>") . $close, $pairs);
    $inner = substr($out, strlen($open), -strlen($close));
    echo str_pad($label, 22), $dec($inner), "\n";
};
$block('vc_raw_html', '[vc_raw_html]', '[/vc_raw_html]', fn($s) => base64_encode(rawurlencode($s)), fn($s) => rawurldecode(base64_decode($s)));
$block('fusion_code', '[fusion_code]', '[/fusion_code]', 'base64_encode', 'base64_decode');
$block('fusion_code as is', '[fusion_code]', '[/fusion_code]', fn($s) => $s, fn($s) => $s);
// One pair of URLs covers every form of the URL by default (as an import does); literally with false.
$one = ['https://old.example' => 'https://new.example.org', '/var/www/old' => '/srv/new'];
foreach ([
    'http variant' => 'http://old.example/x',
    'protocol-relative' => '<img src="//old.example/a.png">',
    'json' => json_encode(['u' => 'https://old.example/x', 'p' => '/var/www/old/wp']),
    'json in json' => json_encode(['c' => json_encode(['u' => 'http://old.example/x'])]),
    'url-encoded' => '?r=' . rawurlencode('https://old.example/x'),
    'u002F' => 'https:\u002F\u002Fold.example',
    'serialized json' => serialize(['j' => json_encode(['u' => 'https://old.example/'])]),
] as $label => $in) {
    echo str_pad($label, 22), SiteLift\rewrite($in, $one), "\n";
}
echo str_pad('literal', 22), SiteLift\rewrite('http://old.example/x https:\/\/old.example', $one, false), "\n";
// The last rewriter is reused for the same pairs: another pair set or mode must not get a stale one.
$a = ['https://old.example' => 'https://a.test'];
$b = ['https://old.example' => 'https://b.test'];
$seen = [];
foreach ([[$a, true], [$a, true], [$b, true], [$a, false], [$a, true], [$b, false]] as [$p, $forms]) {
    $seen[] = SiteLift\rewrite('http://old.example https://old.example', $p, $forms);
}
echo implode("\n", $seen), "\n";
var_dump(SiteLift\rewrite('nothing to see', $pairs) === 'nothing to see');
try {
    SiteLift\rewrite('x', ['' => 'y']);
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
try {
    SiteLift\rewrite('x', ['a' => 1]);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
// Keys PHP turns into integers are still searches: a port, a year, a negative number.
echo SiteLift\rewrite('127.0.0.1:8081 in 2019, -5', ['8081' => '8082', '2019' => '2020', '-5' => '-6'], false), "\n";
try {
    SiteLift\rewrite('old new', ['old', 'new']);
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECT--
plain                 see https://new.example.org/page and https://new.example.org.
boundary .au          https://old.example.au/x
boundary -cdn         https://old.example-cdn.net/x
boundary port         https://old.example:8080/x
boundary prefix       https://notold.example/x
serialized            a:2:{s:3:"url";s:25:"https://new.example.org/a";s:1:"n";i:5;}
emoji length          s:33:"🚀 https://new.example.org/🚀";
nested                a:1:{s:5:"inner";s:60:"a:1:{s:6:"deeper";s:33:"s:25:"https://new.example.org/x";";}";}
array key             a:1:{s:24:"https://new.example.org/";s:4:"home";}
json escaped          {"u":"https:\/\/new.example.org\/x"}
private property      O:4:"Keep":2:{s:7:"\0Keep\0p";s:25:"https://new.example.org/p";s:4:"\0*\0q";s:1:"x";}
corrupt               a:1:{s:3:"url";s:99:"https://old.example/x";}
vc_raw_html           <script src="https://new.example.org/a.js"></script>
fusion_code           <script src="https://new.example.org/a.js"></script>
fusion_code as is     <script src="https://new.example.org/a.js"></script>
http variant          https://new.example.org/x
protocol-relative     <img src="//new.example.org/a.png">
json                  {"u":"https:\/\/new.example.org\/x","p":"\/srv\/new\/wp"}
json in json          {"c":"{\"u\":\"https:\\\/\\\/new.example.org\\\/x\"}"}
url-encoded           ?r=https%3A%2F%2Fnew.example.org%2Fx
u002F                 https:\u002F\u002Fnew.example.org
serialized json       a:1:{s:1:"j";s:35:"{"u":"https:\/\/new.example.org\/"}";}
literal               http://old.example/x https:\/\/old.example
https://a.test https://a.test
https://a.test https://a.test
https://b.test https://b.test
http://old.example https://a.test
https://a.test https://a.test
http://old.example https://b.test
bool(true)
SiteLift\rewrite(): Argument #2 ($pairs) must not contain an empty search string
SiteLift\rewrite(): Argument #2 ($pairs) must contain only string replacements
127.0.0.1:8082 in 2020, -6
SiteLift\rewrite(): Argument #2 ($pairs) must map search strings to replacements, not be a list
