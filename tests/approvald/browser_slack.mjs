// Opens a one-time link from a Slack click in headless Chromium
// (playwright-core): the link redirects to the page showing that request
// for that approver; the page is left until the test has checked that no
// vote exists (a line on stdin, with the TOTP codes to use), then the
// approver gives the token and second factor on the page (signing in first
// where the page asks for it: #signin), and votes; the link, opened again,
// is refused.
// argv: LINK-URL JSON-PARAMS; prints one JSON line when landed, one at the end.
import readline from 'readline';
import { launchChromium } from './browserlib.mjs';

const [link, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const browser = await launchChromium();
const out = {};
try {
	const page = await browser.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const landed = await page.goto(link);
	out.landedStatus = landed.status();
	out.landedUrl = page.url();
	out.signin = await page.locator('#signin').count() > 0;
	const section = page.locator('#r-' + p.id);
	if (out.signin) {
		out.signinApprover = await page.locator('#signin input[name=approver]').inputValue();
	} else {
		out.sections = await section.count();
		out.statusBefore = await section.getAttribute('data-status');
	}
	console.log(JSON.stringify({ landed: true, signin: out.signin }));
	const codes = JSON.parse((await lines.next()).value);
	let form = section.locator('form.vote');
	if (out.signin) {
		const signin = page.locator('#signin');
		if (out.signinApprover === '')
			await signin.locator('input[name=approver]').fill(p.approver);
		await signin.locator('input[name=token]').fill(p.token);
		await signin.locator('input[name=totp]').fill(codes.shift());
		await signin.locator('button[value=totp]').click();
		await page.waitForSelector('#who', { timeout: 15000 });
		out.highlighted = await page.locator('article.highlight').getAttribute('id');
		out.sections = await section.count();
		out.statusBefore = await section.getAttribute('data-status');
	} else {
		await form.locator('input[name=approver]').fill(p.approver);
		await form.locator('input[name=token]').fill(p.token);
	}
	await form.locator('input[name=totp]').fill(codes.shift());
	await form.locator('button[value=' + p.action + ']').click();
	await page.waitForFunction((sel) => /^(recorded|refused|error|signed out)/.test(
		document.querySelector(sel).textContent), '#r-' + p.id + ' form.vote .result',
		{ timeout: 15000 });
	out.result = await form.locator('.result').textContent();
	const again = await page.goto(link);
	out.againStatus = again.status();
	out.againText = await page.locator('body').textContent();
	out.errors = errors;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
