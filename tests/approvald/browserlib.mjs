// What the browser tests' drivers share: playwright-core from the
// node_modules directory the Python side installed (NODE_MODULES_DIR,
// adlib.require_browser), and Debian's Chromium launched headless.
import { createRequire } from 'module';

const require = createRequire(process.env.NODE_MODULES_DIR + '/');
const { chromium } = require('playwright-core');

export function launchChromium() {
	return chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--no-first-run',
			'--disable-component-update', '--disable-sync'],
	});
}
