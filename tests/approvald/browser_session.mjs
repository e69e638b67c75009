// Drives the signed-in approval page in headless Chromium (playwright-core).
// argv: URL JSON-PARAMS; prints one JSON line of findings.
//   mode "batch": a wrong token is refused; bob signs in, a page call
//   without the CSRF token is refused (403); bob approves the incident's
//   requests with one TOTP code; carol signs in (screenshot of the page
//   grouped by incident), approves all with one code: her own request is
//   refused inside the batch, the others are approved; a link from another
//   site to ?request=ID opens that request signed in.
//   mode "expiry": dave signs in, the session idles out, a vote shows the
//   page signed out, and a reload shows the sign-in form.
import { launchChromium } from './browserlib.mjs';

const [url, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
const browser = await launchChromium();
const out = { errors: [] };

async function signIn(a, token, code) {
	const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
	const page = await context.newPage();
	page.on('pageerror', (e) => out.errors.push(String(e)));
	await page.goto(url);
	const form = page.locator('#signin');
	await form.locator('input[name=approver]').fill(a);
	await form.locator('input[name=token]').fill(token);
	await form.locator('input[name=totp]').fill(code);
	await form.locator('button[value=totp]').click();
	return { context, page };
}

async function waitText(page, sel, prefixes) {
	await page.waitForFunction(([s, ps]) => {
		const e = document.querySelector(s);
		return e && ps.some((x) => e.textContent.startsWith(x));
	}, [sel, prefixes], { timeout: 15000 });
	return page.locator(sel).first().textContent();
}

async function batch(page, incident, code) {
	const form = page.locator(`section[data-incident="${incident}"] form.batch`);
	await form.locator('input[name=totp]').fill(code);
	await form.locator('input[name=comment]').fill('INC bridge');
	await form.locator('button[value=approve]').click();
	return waitText(page, `section[data-incident="${incident}"] form.batch .result`,
		['recorded', 'refused', 'error', 'signed out']);
}

try {
	if (p.mode === 'batch') {
		const bad = await signIn('bob', 'not-the-token', p.bob[0]);
		out.badToken = await waitText(bad.page, '#signin .result', ['refused', 'error']);
		await bad.context.close();

		const bob = await signIn('bob', p.tokens.bob, p.bob[0]);
		await bob.page.waitForSelector('#who', { timeout: 15000 });
		out.bobWho = await bob.page.locator('#who').textContent();
		out.cookieVisible = await bob.page.evaluate(() => document.cookie);
		// The page's own origin, the session's cookie, but no CSRF token.
		out.noCsrf = await bob.page.evaluate(async (id) => {
			const r = await fetch('/v1/requests/' + id + '/approve', {
				method: 'POST', headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ comment: '', confirm: { totp: '000000' } }),
			});
			return r.status;
		}, p.ids[0]);
		out.bobBatch = await batch(bob.page, p.incident, p.bob[1]);
		await bob.context.close();

		const carol = await signIn('carol', p.tokens.carol, p.carol[0]);
		await carol.page.waitForSelector('#who', { timeout: 15000 });
		out.incidents = await carol.page.locator('section.incident').count();
		await carol.page.screenshot({ path: p.screenshot, fullPage: true });
		out.carolBatch = await batch(carol.page, p.incident, p.carol[1]);
		out.status = {};
		out.result = {};
		for (const id of [...p.ids, p.own]) {
			const a = carol.page.locator('#r-' + id);
			out.status[id] = await a.getAttribute('data-status');
			out.result[id] = await a.locator('.result').first().textContent();
		}
		// A link from another site (127.0.0.1 is not localhost's site), as chat
		// gives: the first load has no SameSite=Strict cookie, the page's script
		// finds the session and loads the request signed in.
		const other = url.replace('localhost', '127.0.0.1');
		await carol.page.goto(other);
		await carol.page.evaluate((target) => {
			const a = document.createElement('a');
			a.href = target;
			a.id = 'chat-link';
			a.textContent = 'open';
			document.body.appendChild(a);
		}, url + '?request=' + p.pending);
		await carol.page.click('#chat-link');
		await carol.page.waitForSelector('#who', { timeout: 15000 });
		out.linkHighlight = await carol.page.locator('article.highlight').getAttribute('id');
		out.linkArticles = await carol.page.locator('article.request').count();
		await carol.context.close();
	} else {
		const dave = await signIn('dave', p.tokens.dave, p.dave[0]);
		await dave.page.waitForSelector('#who', { timeout: 15000 });
		out.signedIn = await dave.page.evaluate(() => document.body.dataset.session);
		await dave.page.waitForTimeout(p.idleMs);
		const form = dave.page.locator('#r-' + p.ids[0] + ' form.vote');
		await form.locator('input[name=totp]').fill(p.dave[1]);
		await form.locator('button[value=approve]').click();
		out.vote = await waitText(dave.page, '#r-' + p.ids[0] + ' form.vote .result',
			['recorded', 'refused', 'error', 'signed out']);
		out.banner = await dave.page.locator('#signed-out').isVisible();
		out.session = await dave.page.evaluate(() => document.body.dataset.session);
		await dave.page.reload();
		out.signinAgain = await dave.page.locator('#signin').isVisible();
		await dave.context.close();
	}
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
