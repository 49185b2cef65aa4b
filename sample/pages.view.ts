import { html, layout } from './html.js';
import type { SessionView } from './session-data.js';
import { USERNAME_MAX_LENGTH } from './username.pipe.js';

export function renderHomePage(view: SessionView): string {
  const account =
    view.username === null
      ? html`<form method="post" action="/login">
  <label>Name <input name="username" required maxlength="${USERNAME_MAX_LENGTH}" autocomplete="username"></label>
  <button type="submit">Log in</button>
</form>`
      : html`<p>Logged in as <strong id="username">${view.username}</strong>.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`;

  return layout(
    'sessionkit sample',
    html`<h1>@sessionkit/nest sample</h1>
<div class="card">
  <p>You have loaded this page <strong id="visits">${view.visits}</strong> time(s) in this session.</p>
</div>
<div class="card">${account}</div>
<p>JSON: <code>GET /api/session</code>, <code>POST /api/login</code>, <code>POST /api/logout</code>.</p>`,
  );
}

export function renderErrorPage(status: number, message: string): string {
  return layout(
    `Error ${status}`,
    html`<h1>Something is not right</h1>
<div class="card error"><p id="error">${message}</p></div>
<p><a href="/">Back to the start page</a></p>`,
  );
}
