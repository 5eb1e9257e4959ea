<?php
/**
 * Where the command line finds a site's content: wp-config.php read without WordPress (literals, __DIR__,
 * __FILE__, dirname(), and the evaluated fallback), and the refusal of a site whose wp-content, plugins or
 * uploads lie outside its root, on the command line and on a destination asked for a token.
 *
 * @package SiteLift
 */

namespace SiteLift\Tests;

use SiteLift\Plugin\Site_Config;

// Loaded by the command line, not by WordPress.
require_once WP_PLUGIN_DIR . '/sitelift/includes/class-site-config.php';

final class SiteConfigTest extends TestCase {
	/** @var string a scratch folder holding the site folders of one test */
	private $scratch = '';

	protected function setUp(): void {
		parent::setUp();
		$this->scratch = get_temp_dir() . 'sitelift-config-' . wp_generate_password( 8, false );
		mkdir( $this->scratch );
		$this->scratch = (string) realpath( $this->scratch );
	}

	protected function tearDown(): void {
		self::remove( $this->scratch );
		parent::tearDown();
	}

	private static function remove( string $path ): void {
		if ( is_link( $path ) || is_file( $path ) ) {
			unlink( $path );
		} elseif ( is_dir( $path ) ) {
			foreach ( (array) scandir( $path ) as $name ) {
				if ( '.' !== $name && '..' !== $name ) {
					self::remove( $path . '/' . $name );
				}
			}
			rmdir( $path );
		}
	}

	/** A site folder $root (made) whose wp-config.php, in $config_dir (default the root), holds $defines. */
	private function site( string $root, string $defines, ?string $config_dir = null ): string {
		$root = $this->scratch . '/' . $root;
		mkdir( $root . '/wp-content/plugins', 0777, true );
		$config_dir = null === $config_dir ? $root : $this->scratch . '/' . $config_dir;
		if ( ! is_dir( $config_dir ) ) {
			mkdir( $config_dir, 0777, true );
		}
		file_put_contents(
			$config_dir . '/wp-config.php',
			"<?php\n"
			. "define( 'DB_NAME', 'nothing' );\ndefine( 'DB_USER', 'nobody' );\ndefine( 'DB_PASSWORD', 'x' );\n"
			. "define( 'DB_HOST', '127.0.0.1:1' );\n\$table_prefix = 'wp_';\n"
			. $defines
			. "\nif ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }\nrequire_once ABSPATH . 'wp-settings.php';\n"
		);
		return $root;
	}

	public function test_the_default_layout_keeps_everything_inside(): void {
		$config = Site_Config::load( $this->site( 'plain', '' ) );
		$this->assertSame( array(), $config->content_outside_root() );
		$this->assertSame( array(), $config->content_outside_root( 'wp-content/uploads' ) );
	}

	public function test_dir_and_file_constants_mean_the_config_files_folder(): void {
		$root   = $this->site( 'magic', "define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );\ndefine( 'WP_PLUGIN_DIR', dirname( __FILE__ ) . '/wp-content/plugins' );" );
		$config = Site_Config::load( $root );
		$this->assertSame( $root . '/wp-content', $config->constants['WP_CONTENT_DIR'] );
		$this->assertSame( $root . '/wp-content/plugins', $config->constants['WP_PLUGIN_DIR'] );
		$this->assertSame( array(), $config->content_outside_root() );

		$root   = $this->site( 'levels', "define( 'WP_CONTENT_DIR', \\dirname( __FILE__, 2 ) . '/shared/content' );" );
		$config = Site_Config::load( $root );
		$this->assertSame( $this->scratch . '/shared/content', $config->constants['WP_CONTENT_DIR'] );
		$this->assertSame( array(), $config->content_outside_root(), 'folders that do not exist hold nothing to leave behind' );
		mkdir( $this->scratch . '/shared/content/plugins', 0777, true );
		mkdir( $this->scratch . '/shared/content/uploads' );
		$this->assertSame(
			array(
				'wp-content' => $this->scratch . '/shared/content',
				'plugins'    => $this->scratch . '/shared/content/plugins',
				'uploads'    => $this->scratch . '/shared/content/uploads',
			),
			$config->content_outside_root()
		);
	}

	public function test_a_bedrock_like_layout_is_outside(): void {
		// WordPress in web/wp, its wp-config.php one folder up, content in web/app.
		$root    = $this->site( 'web/wp', "define( 'WP_CONTENT_DIR', __DIR__ . '/app' );", 'web' );
		mkdir( $this->scratch . '/web/app/plugins', 0777, true );
		$config  = Site_Config::load( $root );
		$outside = $config->content_outside_root();
		$this->assertSame( $this->scratch . '/web/app', $outside['wp-content'] ?? null );
		$this->assertSame( $this->scratch . '/web/app/plugins', $outside['plugins'] ?? null );
	}

	public function test_computed_values_are_evaluated_where_the_file_is(): void {
		// getenv() is not a literal, so the file is evaluated in a child process from a copy elsewhere:
		// __DIR__ must still mean the site's folder there.
		$root   = $this->site( 'computed', "define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );\ndefine( 'WP_HOME', getenv( 'SITELIFT_NO_SUCH_VARIABLE' ) ?: 'http://computed.test' );" );
		$config = Site_Config::load( $root );
		$this->assertSame( 'http://computed.test', $config->constants['WP_HOME'] );
		$this->assertSame( $root . '/wp-content', $config->constants['WP_CONTENT_DIR'] );
		$this->assertSame( array(), $config->content_outside_root() );

		// Without a web server, $_SERVER['DOCUMENT_ROOT'] means the folder of wp-config.php.
		$root   = $this->site( 'docroot', "define( 'WP_CONTENT_DIR', \$_SERVER['DOCUMENT_ROOT'] . '/wp-content' );" );
		$config = Site_Config::load( $root );
		$this->assertSame( $root . '/wp-content', $config->constants['WP_CONTENT_DIR'] );
		$this->assertSame( array(), $config->content_outside_root() );
	}

	public function test_uploads_follow_the_constant_then_the_option(): void {
		$root   = $this->site( 'uploads', "define( 'UPLOADS', 'wp-content/media' );" );
		$config = Site_Config::load( $root );
		$this->assertSame( array(), $config->content_outside_root( '/somewhere/else' ) );  // UPLOADS wins

		$config = Site_Config::load( $this->site( 'option', '' ) );
		$shared = $this->scratch . '/shared-uploads';
		mkdir( $shared );
		mkdir( $this->scratch . '/media' );
		$this->assertSame( array(), $config->content_outside_root( 'files' ) );
		$this->assertSame( array(), $config->content_outside_root( $config->root . '/wp-content/uploads' ) );
		$this->assertSame( array( 'uploads' => $shared ), $config->content_outside_root( $shared ) );
		$this->assertSame( array( 'uploads' => $config->root . '/../media' ), $config->content_outside_root( '../media' ) );
		$this->assertSame( array(), $config->content_outside_root( $this->scratch . '/no-such-folder' ) );
	}

	public function test_a_link_out_of_the_root_counts_as_outside(): void {
		$root = $this->site( 'linked', '' );
		mkdir( $this->scratch . '/elsewhere' );
		self::remove( $root . '/wp-content/plugins' );
		symlink( $this->scratch . '/elsewhere', $root . '/wp-content/plugins' );
		$config = Site_Config::load( $root );
		$this->assertSame( array( 'plugins' => $root . '/wp-content/plugins' ), $config->content_outside_root() );
		// A name that only starts like the root is not inside it either.
		$this->assertFalse( Site_Config::inside( $root . '2/wp-content', $root ) );
		$this->assertTrue( Site_Config::inside( $root . '/wp-content/./uploads/../uploads', $root ) );
		$this->assertFalse( Site_Config::inside( $root . '/wp-content/../../x', $root ) );
	}

	public function test_the_command_line_refuses_content_outside_the_root(): void {
		$root = $this->site( 'cli/wp', "define( 'WP_CONTENT_DIR', dirname( __DIR__ ) . '/content' );" );
		mkdir( $this->scratch . '/cli/content' );
		$out  = $this->scratch . '/site.tar.zst';
		foreach ( array(
			array( 'export', '--path=' . $root, '--output=' . $out ),
			array( 'import', '--path=' . $root, '--input=' . __FILE__ ),
			array( 'push', '--path=' . $root, '--token=x', '--site=y' ),
			array( 'token', '--path=' . $root, '--url=http://d.test', '--site-name=d' ),
		) as $argv ) {
			list( $status, $stdout, $stderr ) = self::cli( $argv );
			$this->assertSame( 1, $status, $argv[0] . ': ' . $stderr );
			$this->assertStringContainsString( 'wp-content (' . $this->scratch . '/cli/content)', $stderr, $argv[0] );
			$this->assertStringContainsString( 'outside its WordPress folder', $stderr, $argv[0] );
			$this->assertSame( '', $stdout, $argv[0] );
		}
		$this->assertFileDoesNotExist( $out );

		// The same site with its content inside gets past the check (and then fails on its database).
		$inside = $this->site( 'cli2', "define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );" );
		list( $status, , $stderr ) = self::cli( array( 'export', '--path=' . $inside, '--output=' . $out ) );
		$this->assertSame( 1, $status );
		$this->assertStringNotContainsString( 'outside its WordPress folder', $stderr );
	}

	/** Runs the plugin's command line with the extension; returns [exit status, stdout, stderr]. */
	private static function cli( array $argv ): array {
		$repo = (string) getenv( 'SITELIFT_REPO' );
		$cmd  = array_merge(
			array( PHP_BINARY, '-d', 'extension=' . $repo . '/modules/sitelift.so', $repo . '/wp-plugin/sitelift/bin/sitelift' ),
			$argv
		);
		$proc = proc_open( $cmd, array( 0 => array( 'file', '/dev/null', 'r' ), 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes );
		$out  = (string) stream_get_contents( $pipes[1] );
		$err  = (string) stream_get_contents( $pipes[2] );
		fclose( $pipes[1] );
		fclose( $pipes[2] );
		return array( proc_close( $proc ), $out, $err );
	}

	public function test_a_destination_whose_uploads_live_outside_makes_no_token(): void {
		$elsewhere = $this->scratch . '/uploads-elsewhere';
		mkdir( $elsewhere );
		$move = static function ( array $dirs ) use ( $elsewhere ): array {
			$dirs['basedir'] = $elsewhere;
			return $dirs;
		};
		$before = \SiteLift\Plugin\Receiver::view()['token'];
		add_filter( 'upload_dir', $move );
		try {
			$r = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'here', 'ttl' => 3600 ) );
			$this->assertSame( 409, $r->get_status() );
			$this->assertSame( 'sitelift_content_outside', $r->get_data()['code'] );
			$this->assertStringContainsString( $elsewhere, $r->get_data()['message'] );
		} finally {
			remove_filter( 'upload_dir', $move );
		}
		$this->assertSame( $before, \SiteLift\Plugin\Receiver::view()['token'], 'no token was made' );
		$r = $this->rest_as_admin( 'POST', '/sitelift/v1/admin/receive/token', array( 'site_name' => 'here', 'ttl' => 3600 ) );
		$this->assertSame( 200, $r->get_status() );
	}
}
