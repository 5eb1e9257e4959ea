<?php
/**
 * The admin screen: Tools → SiteLift (Settings → SiteLift in the network admin on multisite), with two tabs,
 * "Migrate this site" (source) and "Receive a site" (destination). The page is rendered here; assets/admin.js
 * fills it in and drives it through the REST routes of Admin_Rest.
 *
 * @package SiteLift
 */

namespace SiteLift\Plugin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

final class Admin {
	public const SLUG = 'sitelift';
	public const TABS = array( 'migrate', 'receive' );

	/** @var string the page's hook suffix */
	private static $hook = '';

	public static function register(): void {
		add_action( is_multisite() ? 'network_admin_menu' : 'admin_menu', array( self::class, 'menu' ) );
	}

	public static function menu(): void {
		$title = __( 'SiteLift', 'sitelift' );
		if ( is_multisite() ) {
			$hook = add_submenu_page( 'settings.php', $title, $title, Plugin::capability(), self::SLUG, array( self::class, 'render' ) );
		} else {
			$hook = add_management_page( $title, $title, Plugin::capability(), self::SLUG, array( self::class, 'render' ) );
		}
		if ( $hook ) {
			self::$hook = $hook;
			add_action( 'load-' . $hook, array( self::class, 'load' ) );
		}
	}

	public static function page_url( string $tab = '' ): string {
		$args = array( 'page' => self::SLUG );
		if ( in_array( $tab, self::TABS, true ) ) {
			$args['tab'] = $tab;
		}
		$base = is_multisite() ? network_admin_url( 'settings.php' ) : admin_url( 'tools.php' );
		return add_query_arg( $args, $base );
	}

	/** The tab asked for, else the one with something going on, else "Migrate this site". */
	public static function current_tab(): string {
		$tab = isset( $_GET['tab'] ) ? sanitize_key( wp_unslash( $_GET['tab'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only chooses a view
		if ( in_array( $tab, self::TABS, true ) ) {
			return $tab;
		}
		$job = Runner::job();
		if ( $job && 'none' !== ( $job['status'] ?? 'none' ) ) {
			return 'migrate';
		}
		return get_option( 'sitelift_token' ) ? 'receive' : 'migrate';
	}

	/** load-{page}: the capability once more, then the assets. */
	public static function load(): void {
		if ( ! current_user_can( Plugin::capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to use SiteLift.', 'sitelift' ), 403 );
		}
		add_action( 'admin_enqueue_scripts', array( self::class, 'enqueue' ) );
		nocache_headers();
	}

	public static function enqueue(): void {
		$version = VERSION;
		wp_enqueue_style( 'sitelift-admin', Plugin::url( 'assets/admin.css' ), array(), $version );
		wp_enqueue_script( 'sitelift-admin', Plugin::url( 'assets/admin.js' ), array( 'wp-api-fetch', 'wp-i18n' ), $version, true );
		wp_set_script_translations( 'sitelift-admin', 'sitelift', Plugin::path( 'languages' ) );
		$tab    = self::current_tab();
		$config = array(
			'tab'         => $tab,
			'namespace'   => Admin_Rest::NS,
			'siteUrl'     => home_url(),
			'userLogin'   => wp_get_current_user()->user_login,
			'stepSeconds' => Runner::step_seconds(),
			'preflight'   => get_transient( Preflight::TRANSIENT ) ? get_transient( Preflight::TRANSIENT ) : null,
			'migrate'     => 'migrate' === $tab ? Runner::view() : null,
			'receive'     => 'receive' === $tab ? Receiver::view() : null,
		);
		wp_add_inline_script( 'sitelift-admin', 'window.siteliftAdmin = ' . wp_json_encode( $config ) . ';', 'before' );
	}

	// ------------------------------------------------------------------------------------------- page

	public static function render(): void {
		if ( ! current_user_can( Plugin::capability() ) ) {
			return;
		}
		$tab    = self::current_tab();
		$labels = array(
			'migrate' => __( 'Migrate this site', 'sitelift' ),
			'receive' => __( 'Receive a site', 'sitelift' ),
		);
		echo '<div class="wrap sitelift" id="sitelift" data-tab="' . esc_attr( $tab ) . '">';
		echo '<h1>' . esc_html__( 'SiteLift', 'sitelift' ) . '</h1>';
		echo '<nav class="nav-tab-wrapper" aria-label="' . esc_attr__( 'SiteLift screens', 'sitelift' ) . '">';
		foreach ( $labels as $key => $label ) {
			printf(
				'<a href="%1$s" class="nav-tab%2$s"%3$s>%4$s</a>',
				esc_url( self::page_url( $key ) ),
				$key === $tab ? ' nav-tab-active' : '',
				$key === $tab ? ' aria-current="page"' : '',
				esc_html( $label )
			);
		}
		echo '</nav>';
		echo '<noscript><div class="notice notice-error"><p>' . esc_html__( 'SiteLift\'s screens need JavaScript.', 'sitelift' ) . '</p></div></noscript>';
		echo '<div class="sitelift-notices" aria-live="polite"></div>';
		if ( 'receive' === $tab ) {
			self::render_receive();
		} else {
			self::render_migrate();
		}
		echo '</div>';
	}

	private static function render_receive(): void {
		$site_name = Receiver::site_name();
		?>
		<p class="sitelift-intro"><?php esc_html_e( 'Make this site the destination of a migration: generate a machine token here and paste it, with the site name, on the SiteLift screen of the site you move. Everything on this site is replaced by that site once the migration completes; until then this site stays as it is.', 'sitelift' ); ?></p>

		<section class="sitelift-card" id="sitelift-token-card">
			<h2><?php esc_html_e( 'Machine token', 'sitelift' ); ?></h2>
			<p>
				<label for="sitelift-site-name"><strong><?php esc_html_e( 'Site name', 'sitelift' ); ?></strong></label><br />
				<input type="text" id="sitelift-site-name" class="regular-text code" maxlength="64" autocomplete="off" spellcheck="false" value="<?php echo esc_attr( $site_name ); ?>" />
				<span class="description"><?php esc_html_e( 'The source must enter this name too: a guard against migrating into the wrong site.', 'sitelift' ); ?></span>
			</p>
			<p>
				<label for="sitelift-ttl"><?php esc_html_e( 'Valid for', 'sitelift' ); ?></label>
				<select id="sitelift-ttl">
					<option value="3600"><?php esc_html_e( '1 hour', 'sitelift' ); ?></option>
					<option value="86400" selected="selected"><?php esc_html_e( '24 hours', 'sitelift' ); ?></option>
					<option value="604800"><?php esc_html_e( '7 days', 'sitelift' ); ?></option>
				</select>
				<button type="button" class="button button-primary" id="sitelift-generate"><?php esc_html_e( 'Generate machine token', 'sitelift' ); ?></button>
			</p>
			<div id="sitelift-new-token" class="sitelift-new-token" hidden>
				<p class="sitelift-warning"><strong><?php esc_html_e( 'Copy this token now: it is shown only once.', 'sitelift' ); ?></strong></p>
				<textarea id="sitelift-token-value" class="large-text code" rows="3" readonly="readonly" spellcheck="false" aria-label="<?php esc_attr_e( 'Machine token', 'sitelift' ); ?>"></textarea>
				<p>
					<button type="button" class="button" id="sitelift-copy"><?php esc_html_e( 'Copy', 'sitelift' ); ?></button>
					<span id="sitelift-copied" class="sitelift-copied" aria-live="polite"></span>
				</p>
			</div>
			<div id="sitelift-token-info" class="sitelift-token-info"></div>
			<p><button type="button" class="button" id="sitelift-revoke" hidden><?php esc_html_e( 'Revoke token', 'sitelift' ); ?></button></p>
		</section>

		<section class="sitelift-card" id="sitelift-incoming-card">
			<h2><?php esc_html_e( 'Incoming migration', 'sitelift' ); ?></h2>
			<div id="sitelift-incoming"><p><?php esc_html_e( 'No migration has arrived yet.', 'sitelift' ); ?></p></div>
		</section>

		<section class="sitelift-card" id="sitelift-import-card" hidden>
			<h2><?php esc_html_e( 'Last migration into this site', 'sitelift' ); ?></h2>
			<div id="sitelift-import"></div>
			<p>
				<button type="button" class="button" id="sitelift-rollback"><?php esc_html_e( 'Roll back', 'sitelift' ); ?></button>
				<button type="button" class="button" id="sitelift-cleanup"><?php esc_html_e( 'Delete backup', 'sitelift' ); ?></button>
			</p>
		</section>
		<?php
	}

	private static function render_migrate(): void {
		?>
		<p class="sitelift-intro"><?php esc_html_e( 'Move this whole site — database, files, uploads — into another WordPress install. This site stays as it is; the destination is replaced once everything has arrived and been verified.', 'sitelift' ); ?></p>

		<section class="sitelift-card" id="sitelift-preflight">
			<h2><?php esc_html_e( 'Before you migrate', 'sitelift' ); ?> <button type="button" class="button button-small" id="sitelift-preflight-refresh"><?php esc_html_e( 'Measure again', 'sitelift' ); ?></button></h2>
			<div id="sitelift-preflight-body"><p class="sitelift-muted"><?php esc_html_e( 'Measuring this site…', 'sitelift' ); ?></p></div>
		</section>

		<section class="sitelift-card" id="sitelift-start-card">
			<h2><?php esc_html_e( 'Destination', 'sitelift' ); ?></h2>
			<form id="sitelift-start-form" autocomplete="off">
				<p>
					<label for="sitelift-token"><strong><?php esc_html_e( 'Machine token', 'sitelift' ); ?></strong></label><br />
					<textarea id="sitelift-token" class="large-text code sitelift-secret" rows="3" spellcheck="false" autocomplete="off" required="required"></textarea>
					<span class="description"><?php esc_html_e( 'Generate it on the destination under Tools → SiteLift → Receive a site.', 'sitelift' ); ?></span>
				</p>
				<p>
					<label for="sitelift-dest-name"><strong><?php esc_html_e( 'Destination site name', 'sitelift' ); ?></strong></label><br />
					<input type="text" id="sitelift-dest-name" class="regular-text code" maxlength="64" spellcheck="false" autocomplete="off" required="required" />
				</p>
				<p><button type="submit" class="button button-primary button-hero" id="sitelift-migrate"><?php esc_html_e( 'Migrate', 'sitelift' ); ?></button></p>
				<p class="description"><?php esc_html_e( 'The migration runs in steps, and each step reads the database as it is at that moment: every table arrives consistent chunk by chunk, but changes made on this site meanwhile may arrive in part. Avoid editing during the migration, or ask your host to run `sitelift push` from the command line, which reads the whole database in one snapshot.', 'sitelift' ); ?></p>
			</form>
		</section>

		<section class="sitelift-card" id="sitelift-progress" hidden>
			<h2><?php esc_html_e( 'Migration', 'sitelift' ); ?> <span id="sitelift-phase" class="sitelift-phase"></span></h2>
			<div class="sitelift-progressbar" id="sitelift-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" aria-label="<?php esc_attr_e( 'Migration progress', 'sitelift' ); ?>">
				<div class="sitelift-progressbar-fill" id="sitelift-bar-fill"></div>
				<span class="sitelift-progressbar-label" id="sitelift-percent">0%</span>
			</div>
			<dl class="sitelift-stats">
				<dt><?php esc_html_e( 'Done', 'sitelift' ); ?></dt><dd id="sitelift-bytes">–</dd>
				<dt><?php esc_html_e( 'Rate', 'sitelift' ); ?></dt><dd id="sitelift-rate">–</dd>
				<dt><?php esc_html_e( 'Time left', 'sitelift' ); ?></dt><dd id="sitelift-eta">–</dd>
				<dt><?php esc_html_e( 'Now', 'sitelift' ); ?></dt><dd id="sitelift-item" class="code">–</dd>
			</dl>
			<p id="sitelift-progress-note" class="sitelift-muted"><?php esc_html_e( 'You can close this page: the migration goes on in the background, and you get an email when it completes.', 'sitelift' ); ?></p>
			<div id="sitelift-progress-error"></div>
			<p>
				<button type="button" class="button" id="sitelift-cancel"><?php esc_html_e( 'Cancel', 'sitelift' ); ?></button>
				<button type="button" class="button button-primary" id="sitelift-resume" hidden><?php esc_html_e( 'Resume', 'sitelift' ); ?></button>
				<button type="button" class="button" id="sitelift-log"><?php esc_html_e( 'Download log', 'sitelift' ); ?></button>
				<button type="button" class="button-link" id="sitelift-new" hidden><?php esc_html_e( 'Start a new migration', 'sitelift' ); ?></button>
			</p>
			<div id="sitelift-report" class="sitelift-report" hidden></div>
		</section>
		<?php
	}
}
