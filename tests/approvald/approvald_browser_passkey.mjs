// Registers a passkey on approvald's /passkeys page in headless Chromium
// (playwright-core) with a CDP virtual authenticator (CTAP2, internal,
// resident keys, user verification), then approves a request with it:
// a challenge bound to the vote, navigator.credentials.get, the vote API;
// then signs in on the page with the passkey and approves a second request
// there with a passkey confirmation.
// argv: ORIGIN JSON-PARAMS; prints one JSON line of findings.
import { launchChromium } from './browserlib.mjs';

const [origin, paramsJson] = process.argv.slice(2);
const p = JSON.parse(paramsJson);
const browser = await launchChromium();
const out = {};
try {
	const context = await browser.newContext();
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const cdp = await context.newCDPSession(page);
	await cdp.send('WebAuthn.enable');
	const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
		options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
			hasUserVerification: true, isUserVerified: true },
	});
	// The sign-in page links to the registration page.
	await page.goto(origin + '/');
	await page.locator('a[href="/passkeys"]').click();
	await page.waitForURL(origin + '/passkeys');
	const form = page.locator('#register');
	await form.locator('input[name=approver]').fill(p.approver);
	await form.locator('input[name=token]').fill(p.token);
	await form.locator('input[name=totp]').fill(p.totp);
	await form.locator('input[name=label]').fill('virtual authenticator');
	await form.locator('button[type=submit]').click();
	await page.waitForFunction(() => document.getElementById('result').dataset.status,
		null, { timeout: 15000 });
	out.registerResult = await page.locator('#result').textContent();
	out.credentials = (await cdp.send('WebAuthn.getCredentials', { authenticatorId }))
		.credentials.map((c) => ({ resident: c.isResidentCredential, count: c.signCount }));
	// A vote confirmed by the passkey, from the page's origin.
	out.vote = await page.evaluate(async (v) => {
		const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
			.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
		const unb64u = (t) => Uint8Array.from(atob(t.replace(/-/g, '+')
			.replace(/_/g, '/') + '='.repeat((4 - t.length % 4) % 4)), (c) => c.charCodeAt(0));
		const h = { 'Content-Type': 'application/json', Authorization: 'Bearer ' + v.token };
		const r1 = await fetch('/v1/webauthn/challenge', { method: 'POST', headers: h,
			body: JSON.stringify({ approver: v.approver, binding: 'vote:approve:' + v.id }) });
		const o = (await r1.json()).publicKey;
		o.challenge = unb64u(o.challenge);
		o.allowCredentials.forEach((c) => { c.id = unb64u(c.id); });
		const c = await navigator.credentials.get({ publicKey: o });
		const assertion = { id: c.id, clientDataJSON: b64u(c.response.clientDataJSON),
			authenticatorData: b64u(c.response.authenticatorData),
			signature: b64u(c.response.signature),
			userHandle: c.response.userHandle ? b64u(c.response.userHandle) : null };
		const r2 = await fetch('/v1/requests/' + v.id + '/approve', { method: 'POST',
			headers: h, body: JSON.stringify({ approver: v.approver, webauthn: assertion,
				comment: 'passkey from the browser' }) });
		const body = await r2.json();
		// The same assertion again: its challenge is spent.
		const r3 = await fetch('/v1/requests/' + v.id + '/approve', { method: 'POST',
			headers: h, body: JSON.stringify({ approver: v.approver, webauthn: assertion }) });
		return { status: r2.status, decision: body.status, replay: r3.status,
			userHandle: assertion.userHandle !== null };
	}, { approver: p.approver, token: p.token, id: p.id });
	await page.screenshot({ path: p.screenshot });
	if (p.id2) {
		// Sign in on the page with the passkey, then approve with it.
		await page.goto(origin + '/');
		const si = page.locator('#signin');
		await si.locator('input[name=approver]').fill(p.approver);
		await si.locator('input[name=token]').fill(p.token);
		await si.locator('button[value=passkey]').click();
		await page.waitForFunction(() => document.body.dataset.session === 'live',
			null, { timeout: 15000 });
		out.signedInAs = await page.locator('#who').textContent();
		const form = page.locator('#r-' + p.id2 + ' form.vote');
		await form.locator('input[name=passkey]').check();
		await form.locator('input[name=comment]').fill('passkey on the page');
		await form.locator('button[value=approve]').click();
		await page.waitForFunction((sel) => {
			const e = document.querySelector(sel);
			return e && /^(recorded|refused|error|signed out)/.test(e.textContent);
		}, '#r-' + p.id2 + ' form.vote .result', { timeout: 15000 });
		out.pageVote = await form.locator('.result').textContent();
	}
	out.errors = errors;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
