/*
 * GET /passkeys: where an approver registers a passkey.  A static form
 * (name, token, TOTP code, label) and one inline script, allowed by its hash
 * under the same Content-Security-Policy as the approvers' page: it asks
 * register/begin for the creation options (the token and the TOTP code are
 * the bootstrap), lets the browser make the credential
 * (navigator.credentials.create: user verification required, attestation
 * none, a discoverable credential preferred), and sends it to
 * register/finish.  Nothing on the page comes from a request.
 */
#include "build_config.h"

#include <microhttpd.h>

#include "approvald.h"

static const char passkey_style[] =
	"body{font-family:sans-serif;margin:2em;max-width:40em}"
	"label{display:block;margin:.5em 0}";

/* base64url <-> ArrayBuffer for the options and the credential (contract item 3). */
static const char passkey_script[] =
	"function b64u(buf){var s='';new Uint8Array(buf).forEach(function(c){"
	"s+=String.fromCharCode(c);});"
	"return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');}"
	"function unb64u(t){t=t.replace(/-/g,'+').replace(/_/g,'/');"
	"while(t.length%4)t+='=';var s=atob(t),a=new Uint8Array(s.length);"
	"for(var i=0;i<s.length;i++)a[i]=s.charCodeAt(i);return a.buffer;}"
	"function post(path,token,body){return fetch(path,{method:'POST',"
	"headers:{'Content-Type':'application/json','Authorization':'Bearer '+token},"
	"body:JSON.stringify(body)}).then(function(r){return r.json().then(function(b){"
	"if(!r.ok)throw new Error(r.status+' '+b.error);return b;});});}"
	"document.getElementById('register').addEventListener('submit',function(e){"
	"e.preventDefault();var f=e.target,out=document.getElementById('result');"
	"var who=f.elements.approver.value,token=f.elements.token.value;"
	"out.textContent='asking the service...';"
	"post('/v1/webauthn/register/begin',token,{approver:who,totp:f.elements.totp.value})"
	".then(function(o){var pk=o.publicKey;pk.challenge=unb64u(pk.challenge);"
	"pk.user.id=unb64u(pk.user.id);pk.excludeCredentials.forEach(function(c){"
	"c.id=unb64u(c.id);});out.textContent='confirm on your authenticator...';"
	"return navigator.credentials.create({publicKey:pk});})"
	".then(function(c){return post('/v1/webauthn/register/finish',token,"
	"{approver:who,label:f.elements.label.value,credential:{id:c.id,"
	"clientDataJSON:b64u(c.response.clientDataJSON),"
	"attestationObject:b64u(c.response.attestationObject)}});})"
	".then(function(b){out.textContent='registered: '+b.label;"
	"out.dataset.status='registered';})"
	".catch(function(err){out.textContent='refused: '+err.message;"
	"out.dataset.status='refused';});});";

static const char passkey_body[] =
	"<h1>Register a passkey</h1>"
	"<p>Your API token and a TOTP code vouch for the new passkey once; after "
	"that the passkey confirms your votes and sign-ins.</p>"
	"<form id=\"register\">"
	"<label>Approver <input name=\"approver\" autocomplete=\"username\" required></label>"
	"<label>API token <input name=\"token\" type=\"password\" "
	"autocomplete=\"off\" required></label>"
	"<label>TOTP code <input name=\"totp\" inputmode=\"numeric\" "
	"autocomplete=\"one-time-code\" required></label>"
	"<label>Label <input name=\"label\" maxlength=\"64\" "
	"placeholder=\"laptop, phone, key\"></label>"
	"<button type=\"submit\">Register</button>"
	"</form><p id=\"result\" role=\"status\"></p>"
	"<p><a href=\"/\">Back to the requests</a></p>";

void
ad_passkey_page(ad_http_req *r, ad_response *res)
{
	(void)r;
	bg_buf_free(&res->body);
	bg_buf_init(&res->body, 0);
	bg_buf_printf(&res->body, "<!DOCTYPE html><html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>breakglass approvals: passkeys</title>"
	    "<style>%s</style></head><body>%s<script>%s</script></body></html>\n",
	    passkey_style, passkey_body, passkey_script);
	if (res->body.overflow || !ad_page_set_csp(res, passkey_script, passkey_style)) {
		ad_response_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	res->status = MHD_HTTP_OK;
	res->content_type = "text/html; charset=utf-8";
	res->html = true;
}
