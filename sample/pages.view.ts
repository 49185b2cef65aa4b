import { SafeHtml, html, layout } from './html.js';
import type { SessionView } from './session-data.js';
import { USERNAME_MAX_LENGTH } from './username.pipe.js';

export interface ActiveSession {
  readonly created: Date;
  readonly lastSeen: Date;
  readonly userAgent?: string;
  readonly current: boolean;
}

function renderActiveSessions(sessions: readonly ActiveSession[]): SafeHtml {
  if (sessions.length === 0) return new SafeHtml('');
  const rows = sessions.map(
    (s) => html`<tr class="${s.current ? 'current' : 'other'}"><td>${s.userAgent ?? 'unknown browser'}${s.current ? ' (this one)' : ''}</td>
<td>${s.created.toISOString()}</td><td>${s.lastSeen.toISOString()}</td></tr>`,
  );
  return html`<div class="card" id="active-sessions">
  <h2>Your active sessions</h2>
  <table><thead><tr><th>Browser</th><th>Started</th><th>Last seen</th></tr></thead><tbody>${rows}</tbody></table>
  <form method="post" action="/sessions/logout-others"><button type="submit">Log out everywhere else</button></form>
</div>`;
}

export function renderHomePage(view: SessionView, sessions: readonly ActiveSession[] = [], notices: readonly string[] = []): string {
  const flash = notices.map((notice) => html`<p class="notice">${notice}</p>`);
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
${flash}<div class="card">${account}</div>
${renderActiveSessions(sessions)}
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
