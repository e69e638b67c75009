// Opens a one-time link from a Slack click in headless Chromium
// (playwright-core): the link redirects to the page showing that request
// for that approver; the page is left until the test has checked that no
// vote exists ("go" on stdin), then the approver gives the second factor on
// the page; the link, opened again, is refused.
// argv: LINK-URL JSON-PARAMS; prints one JSON line when landed, one at the end.
import { createRequire } from 'module';
import readline from 'readline';
const require = createRequire(process.env.NODE_MODULES_DIR + '/');
const { chromium } = require('playwright-core');

const [link, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--no-first-run', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
	const page = await browser.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const landed = await page.goto(link);
	out.landedStatus = landed.status();
	out.landedUrl = page.url();
	const section = page.locator('#r-' + p.id);
	out.sections = await section.count();
	out.statusBefore = await section.getAttribute('data-status');
	console.log(JSON.stringify({ landed: true }));
	await lines.next();
	const form = section.locator('form.vote');
	const approver = form.locator('input[name=approver]');
	if (await approver.inputValue() === '')
		await approver.fill(p.approver);
	await form.locator('input[name=token]').fill(p.token);
	await form.locator('input[name=totp]').fill(p.totp);
	await form.locator('button[value=' + p.action + ']').click();
	await page.waitForFunction((sel) => /^(recorded|refused)/.test(
		document.querySelector(sel).textContent), '#r-' + p.id + ' .result',
		{ timeout: 10000 });
	out.result = await section.locator('.result').textContent();
	const again = await page.goto(link);
	out.againStatus = again.status();
	out.againText = await page.locator('body').textContent();
	out.errors = errors;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
