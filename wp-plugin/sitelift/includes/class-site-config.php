<?php
/**
 * Reads what SiteLift needs to know about a WordPress install from its files, without loading WordPress:
 * the database settings and table prefix from wp-config.php, the version from wp-includes/version.php.
 *
 * wp-config.php is read as PHP tokens, never executed, as long as the values are literals (the usual case;
 * __DIR__, __FILE__ and dirname() of them count as literals). When a value is computed (getenv(), a constant
 * expression), the file is evaluated in a separate PHP process with WordPress's bootstrap line removed, the
 * way WP-CLI does it, with __DIR__ and __FILE__ meaning the real file's folder and name.
 *
 * It also tells where the site keeps its content (WP_CONTENT_DIR, WP_PLUGIN_DIR, UPLOADS, the upload_path
 * option), because a migration moves the WordPress folder only.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

final class Site_Config {
	private const WANTED = array( 'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST', 'DB_CHARSET', 'DB_COLLATE', 'MULTISITE', 'WP_HOME', 'WP_SITEURL', 'WP_CONTENT_DIR', 'WP_PLUGIN_DIR', 'UPLOADS' );

	/** @var string */
	public $root;
	/** @var string the wp-config.php read (in the root or the folder above it) */
	public $file = '';
	/** @var array<string, mixed> */
	public $constants = array();
	/** @var string */
	public $table_prefix = 'wp_';
	/** @var string */
	public $wp_version = '';

	private function __construct( string $root ) {
		$this->root = $root;
	}

	/**
	 * @throws \RuntimeException When the root holds no readable wp-config.php.
	 */
	public static function load( string $root ): self {
		$real = realpath( $root );
		if ( false === $real || ! is_dir( $real ) ) {
			throw new \RuntimeException( "'$root' is not a folder" );
		}
		$config = new self( $real );
		$file   = $real . '/wp-config.php';
		if ( ! is_file( $file ) && is_file( dirname( $real ) . '/wp-config.php' ) ) {
			$file = dirname( $real ) . '/wp-config.php'; // WordPress also looks one folder up.
		}
		if ( ! is_readable( $file ) ) {
			throw new \RuntimeException( "no readable wp-config.php in '$real'" );
		}
		$config->file = $file;
		$code         = (string) file_get_contents( $file );
		$complete     = $config->parse_tokens( $code );
		if ( ! $complete ) {
			$config->evaluate( $file );
		}
		foreach ( array( 'DB_NAME', 'DB_USER', 'DB_HOST' ) as $required ) {
			if ( ! isset( $config->constants[ $required ] ) ) {
				throw new \RuntimeException( "wp-config.php does not define $required" );
			}
		}
		$config->wp_version = self::read_wp_version( $real );
		return $config;
	}

	/** The database settings in the form SiteLift\export() and SiteLift\import() take. */
	public function db(): array {
		return array(
			'host'     => (string) $this->constants['DB_HOST'],
			'user'     => (string) $this->constants['DB_USER'],
			'password' => (string) ( $this->constants['DB_PASSWORD'] ?? '' ),
			'name'     => (string) $this->constants['DB_NAME'],
		);
	}

	public function multisite(): bool {
		return ! empty( $this->constants['MULTISITE'] );
	}

	/**
	 * The site's content folders that lie outside its root, as WordPress would place them: wp-content
	 * (WP_CONTENT_DIR), plugins (WP_PLUGIN_DIR) and uploads (UPLOADS, relative to the root, else the
	 * upload_path option when the caller could read it, else wp-content/uploads). A migration moves the root
	 * only, so these would be left behind. Only folders that exist count: one that does not holds nothing to
	 * leave behind, and a value computed without a web server (from $_SERVER, say) may name no real folder.
	 *
	 * @param string|null $upload_path the upload_path option (null: not known)
	 * @return array<string, string> what => folder, e.g. 'wp-content' => '/srv/app'
	 */
	public function content_outside_root( ?string $upload_path = null ): array {
		$root    = $this->root;
		$content = self::absolute( (string) ( $this->constants['WP_CONTENT_DIR'] ?? $root . '/wp-content' ), $root );
		$plugins = self::absolute( (string) ( $this->constants['WP_PLUGIN_DIR'] ?? $content . '/plugins' ), $root );
		$upload_path = trim( (string) $upload_path );
		if ( isset( $this->constants['UPLOADS'] ) ) {
			$uploads = $root . '/' . ltrim( (string) $this->constants['UPLOADS'], '/' );  // ABSPATH . UPLOADS
		} elseif ( '' !== $upload_path && 'wp-content/uploads' !== $upload_path ) {
			$uploads = self::absolute( $upload_path, $root );
		} else {
			$uploads = $content . '/uploads';
		}
		$outside = array();
		foreach ( array( 'wp-content' => $content, 'plugins' => $plugins, 'uploads' => $uploads ) as $what => $dir ) {
			if ( ! self::inside( $dir, $root ) && is_dir( $dir ) ) {
				$outside[ $what ] = $dir;
			}
		}
		return $outside;
	}

	/** $path as an absolute path: relative ones are taken from $root, as WordPress's path_join() does. */
	private static function absolute( string $path, string $root ): string {
		return '' !== $path && '/' === $path[0] ? $path : $root . '/' . $path;
	}

	/**
	 * Whether $dir is $root or below it: links resolved where the folders exist, '.' and '..' resolved by
	 * name where they do not.
	 */
	public static function inside( string $dir, string $root ): bool {
		$dir  = self::resolved( $dir );
		$root = self::resolved( $root );
		return $dir === $root || 0 === strpos( $dir, rtrim( $root, '/' ) . '/' );
	}

	/** The real path of the longest part of $path that exists, followed by the rest resolved by name. */
	private static function resolved( string $path ): string {
		$rest = array();
		$head = $path;
		while ( false === realpath( $head ) && '/' !== $head && '' !== $head && '.' !== $head ) {
			array_unshift( $rest, basename( $head ) );
			$head = dirname( $head );
		}
		$real  = realpath( $head );
		$parts = explode( '/', trim( false !== $real ? $real : $head, '/' ) );
		foreach ( $rest as $part ) {
			if ( '..' === $part ) {
				array_pop( $parts );
			} elseif ( '' !== $part && '.' !== $part ) {
				$parts[] = $part;
			}
		}
		return '/' . implode( '/', array_filter( $parts, 'strlen' ) );
	}

	/**
	 * Collects define()s and $table_prefix whose values are literals. Returns false when a wanted value is
	 * computed, so the caller falls back to evaluation.
	 */
	private function parse_tokens( string $code ): bool {
		$tokens = array_values(
			array_filter(
				token_get_all( $code ),
				static function ( $t ) {
					return ! ( is_array( $t ) && in_array( $t[0], array( T_WHITESPACE, T_COMMENT, T_DOC_COMMENT ), true ) );
				}
			)
		);
		$complete = true;
		$count    = count( $tokens );
		for ( $i = 0; $i < $count; $i++ ) {
			$t = $tokens[ $i ];
			if ( is_array( $t ) && T_STRING === $t[0] && 'define' === strtolower( $t[1] ) && '(' === ( $tokens[ $i + 1 ] ?? null ) ) {
				$name = $this->literal( $tokens, $i + 2, $next );
				if ( ! is_string( $name ) || ',' !== ( $tokens[ $next ] ?? null ) || ! in_array( $name, self::WANTED, true ) ) {
					continue;
				}
				$value = $this->literal( $tokens, $next + 1, $end );
				if ( null === $end || ! in_array( $tokens[ $end ] ?? null, array( ')', ',' ), true ) ) {
					$complete = false;
					continue;
				}
				if ( ! array_key_exists( $name, $this->constants ) ) {
					$this->constants[ $name ] = $value;
				}
			} elseif ( is_array( $t ) && T_VARIABLE === $t[0] && '$table_prefix' === $t[1] && '=' === ( $tokens[ $i + 1 ] ?? null ) ) {
				$value = $this->literal( $tokens, $i + 2, $end );
				if ( null === $end || ';' !== ( $tokens[ $end ] ?? null ) || ! is_string( $value ) ) {
					$complete = false;
					continue;
				}
				$this->table_prefix = $value;
			}
		}
		return $complete;
	}

	/**
	 * Reads a literal (string, number, true/false/null, __DIR__, __FILE__, dirname() of one of those with an
	 * optional literal level count, or such pieces joined by '.') starting at $i. Sets $end to the index after
	 * it, or null when the expression is not a literal.
	 *
	 * @return mixed
	 */
	private function literal( array $tokens, int $i, ?int &$end ) {
		$end   = null;
		$value = null;
		$parts = 0;
		while ( true ) {
			$t = $tokens[ $i ] ?? null;
			if ( is_array( $t ) && T_CONSTANT_ENCAPSED_STRING === $t[0] ) {
				$piece = self::unquote( $t[1] );
			} elseif ( is_array( $t ) && T_DIR === $t[0] ) {
				$piece = dirname( $this->file );
			} elseif ( is_array( $t ) && T_FILE === $t[0] ) {
				$piece = $this->file;
			} elseif ( is_array( $t ) && in_array( $t[0], array( T_STRING, T_NAME_FULLY_QUALIFIED ), true ) && 'dirname' === strtolower( ltrim( $t[1], '\\' ) ) && '(' === ( $tokens[ $i + 1 ] ?? null ) ) {
				$arg = $this->literal( $tokens, $i + 2, $after );
				if ( ! is_string( $arg ) || null === $after ) {
					return null;
				}
				$levels = 1;
				if ( ',' === ( $tokens[ $after ] ?? null ) ) {
					$levels = $this->literal( $tokens, $after + 1, $after );
					if ( ! is_int( $levels ) || $levels < 1 || null === $after ) {
						return null;
					}
				}
				if ( ')' !== ( $tokens[ $after ] ?? null ) ) {
					return null;
				}
				$piece = dirname( $arg, $levels );
				$i     = $after;
			} elseif ( is_array( $t ) && T_LNUMBER === $t[0] ) {
				$piece = (int) $t[1];
			} elseif ( is_array( $t ) && T_STRING === $t[0] && in_array( strtolower( $t[1] ), array( 'true', 'false', 'null' ), true ) ) {
				$piece = array( 'true' => true, 'false' => false, 'null' => null )[ strtolower( $t[1] ) ];
			} else {
				return null;
			}
			$value = 0 === $parts ? $piece : $value . $piece;
			++$parts;
			++$i;
			if ( '.' !== ( $tokens[ $i ] ?? null ) ) {
				$end = $i;
				return $value;
			}
			++$i;
		}
	}

	private static function unquote( string $literal ): string {
		$quote = $literal[0];
		$body  = substr( $literal, 1, -1 );
		if ( "'" === $quote ) {
			return str_replace( array( "\\\\", "\\'" ), array( "\\", "'" ), $body );
		}
		return stripcslashes( $body );
	}

	/** Runs wp-config.php without WordPress's bootstrap in a child process and reads the values it defines. */
	private function evaluate( string $file ): void {
		$code = self::with_real_location( (string) file_get_contents( $file ), $file );
		$code = preg_replace( '/^\s*(require|require_once|include|include_once)\s*\(?\s*ABSPATH\s*\.\s*[\'"]wp-settings\.php[\'"]\s*\)?\s*;/mi', '', $code );
		$tmp  = tempnam( sys_get_temp_dir(), 'sitelift-config-' );
		if ( false === $tmp ) {
			throw new \RuntimeException( 'cannot create a temporary file' );
		}
		chmod( $tmp, 0600 );
		$wanted = var_export( self::WANTED, true );
		// Without a web server there is no document root; the usual one is the folder of wp-config.php.
		$probe  = '<?php if (!defined("ABSPATH")) define("ABSPATH", ' . var_export( dirname( $file ) . '/', true ) . ');'
			. ' if (empty($_SERVER["DOCUMENT_ROOT"])) $_SERVER["DOCUMENT_ROOT"] = ' . var_export( dirname( $file ), true ) . ';'
			. ' ob_start(); (function () { require ' . var_export( $tmp . '.cfg', true ) . '; $GLOBALS["__sl_prefix"] = $table_prefix ?? null; })(); ob_end_clean();'
			. ' $out = ["prefix" => $GLOBALS["__sl_prefix"], "constants" => []];'
			. ' foreach (' . $wanted . ' as $c) { if (defined($c)) { $out["constants"][$c] = constant($c); } }'
			. ' echo json_encode($out);';
		file_put_contents( $tmp . '.cfg', $code );
		chmod( $tmp . '.cfg', 0600 );
		file_put_contents( $tmp, $probe );
		$cmd    = escapeshellarg( PHP_BINARY ) . ' -n -d display_errors=0 ' . escapeshellarg( $tmp );
		$output = shell_exec( $cmd );
		unlink( $tmp );
		unlink( $tmp . '.cfg' );
		$data = is_string( $output ) ? json_decode( $output, true ) : null;
		if ( ! is_array( $data ) ) {
			throw new \RuntimeException( 'cannot evaluate wp-config.php' );
		}
		foreach ( $data['constants'] as $name => $value ) {
			$this->constants[ $name ] = $value;
		}
		if ( is_string( $data['prefix'] ) ) {
			$this->table_prefix = $data['prefix'];
		}
	}

	/** $code with __DIR__ and __FILE__ spelled out as $file's, so that a copy of it elsewhere means the same. */
	private static function with_real_location( string $code, string $file ): string {
		$out = '';
		foreach ( token_get_all( $code ) as $t ) {
			if ( is_array( $t ) && T_DIR === $t[0] ) {
				$out .= var_export( dirname( $file ), true );
			} elseif ( is_array( $t ) && T_FILE === $t[0] ) {
				$out .= var_export( $file, true );
			} else {
				$out .= is_array( $t ) ? $t[1] : $t;
			}
		}
		return $out;
	}

	private static function read_wp_version( string $root ): string {
		$file = $root . '/wp-includes/version.php';
		if ( ! is_readable( $file ) ) {
			return '';
		}
		$tokens = token_get_all( (string) file_get_contents( $file ) );
		$count  = count( $tokens );
		for ( $i = 0; $i < $count; $i++ ) {
			if ( is_array( $tokens[ $i ] ) && T_VARIABLE === $tokens[ $i ][0] && '$wp_version' === $tokens[ $i ][1] ) {
				for ( $j = $i + 1; $j < $count; $j++ ) {
					if ( is_array( $tokens[ $j ] ) && T_CONSTANT_ENCAPSED_STRING === $tokens[ $j ][0] ) {
						return self::unquote( $tokens[ $j ][1] );
					}
					if ( ';' === $tokens[ $j ] ) {
						break;
					}
				}
			}
		}
		return '';
	}
}
