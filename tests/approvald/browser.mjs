// Drives the approval page in headless Chromium (playwright-core): the
// <script> reason must show as text and never run; two approvers, each in
// a browser context of their own, sign in and approve; the request then
// leaves "pending".
// argv: URL JSON-PARAMS; prints one JSON line of findings.
import { launchChromium } from './browserlib.mjs';

const [url, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
const browser = await launchChromium();
const out = { errors: [] };
try {
	for (const [i, v] of p.votes.entries()) {
		const context = await browser.newContext();
		const page = await context.newPage();
		page.on('pageerror', (e) => out.errors.push(String(e)));
		await page.goto(url);
		const form = page.locator('#signin');
		await form.locator('input[name=approver]').fill(v.approver);
		await form.locator('input[name=token]').fill(v.token);
		await form.locator('input[name=totp]').fill(v.signin_totp);
		await form.locator('button[value=totp]').click();
		await page.waitForSelector('#who', { timeout: 10000 });
		const section = page.locator('#r-' + p.id);
		if (i === 0) {
			out.reasonText = await section.locator('dd').nth(5).textContent();
			out.pwned = await page.evaluate(() => window.pwned === 1);
		}
		const vote = section.locator('form.vote');
		await vote.locator('input[name=totp]').fill(v.totp);
		await vote.locator('input[name=comment]').fill(v.comment);
		await vote.locator('button[value=approve]').click();
		const want = i === p.votes.length - 1 ? 'recorded: approved' : 'recorded: pending';
		await page.waitForFunction(([sel, w]) =>
			document.querySelector(sel).textContent.startsWith(w) ||
			document.querySelector(sel).textContent.startsWith('refused'),
			['#r-' + p.id + ' .result', want], { timeout: 10000 });
		out['result' + i] = await section.locator('.result').textContent();
		out.sectionStatus = await section.getAttribute('data-status');
		await context.close();
	}
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
