// Drives the approval page in headless Chromium (playwright-core): the
// <script> reason must show as text and never run; two approvers fill the
// form and approve; the request then leaves "pending".
// argv: URL JSON-PARAMS; prints one JSON line of findings.
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_MODULES_DIR + '/');
const { chromium } = require('playwright-core');

const [url, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
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
	await page.goto(url);
	const section = page.locator('#r-' + p.id);
	out.reasonText = await section.locator('dd').nth(5).textContent();
	out.pwned = await page.evaluate(() => window.pwned === 1);
	for (const [i, v] of p.votes.entries()) {
		const form = section.locator('form.vote');
		await form.locator('input[name=approver]').fill(v.approver);
		await form.locator('input[name=token]').fill(v.token);
		await form.locator('input[name=totp]').fill(v.totp);
		await form.locator('input[name=comment]').fill(v.comment);
		await form.locator('button[value=approve]').click();
		const want = i === p.votes.length - 1 ? 'recorded: approved' : 'recorded: pending';
		await page.waitForFunction(([sel, w]) =>
			document.querySelector(sel).textContent.startsWith(w) ||
			document.querySelector(sel).textContent.startsWith('refused'),
			['#r-' + p.id + ' .result', want], { timeout: 10000 });
		out['result' + i] = await section.locator('.result').textContent();
	}
	out.sectionStatus = await section.getAttribute('data-status');
	out.errors = errors;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
