import { SafeHtml, html, layout } from './html.js';
import { describeUserAgent, exactTime, timeAgo } from './humanize.js';
import type { SessionView } from './session-data.js';
import { USERNAME_MAX_LENGTH } from './username.pipe.js';

export interface ActiveSession {
  readonly created: Date;
  readonly lastSeen: Date;
  readonly userAgent?: string;
  readonly current: boolean;
}

/** What every page with forms needs: the session's CSRF token, and the time to show dates against. */
export interface PageContext {
  /** From `sessionService.csrfToken(req)`: every form posts it back in the `_csrf` field. */
  readonly csrfToken: string;
  readonly now?: Date;
}

/** The hidden field `CsrfGuard` looks for. Every POST form on the page carries it. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A POST form of one button (logout, log out everywhere else). */
function buttonForm(action: string, label: string, csrfToken: string): SafeHtml {
  return html`<form method="post" action="${action}">${csrfField(csrfToken)}<button type="submit">${label}</button></form>`;
}

/** A date in words, with the exact time as a tooltip and machine-readable `datetime`. */
function when(date: Date, now: Date): SafeHtml {
  return html`<time datetime="${date.toISOString()}" title="${exactTime(date)}">${timeAgo(date, now)}</time>`;
}

function renderActiveSessions(sessions: readonly ActiveSession[], page: PageContext): SafeHtml {
  if (sessions.length === 0) return new SafeHtml('');
  const now = page.now ?? new Date();
  // `data-label` names each cell where the narrow layout stacks a row into lines (see html.ts).
  const rows = sessions.map(
    (s) => html`<tr class="${s.current ? 'current' : 'other'}">
<td data-label="Browser"><span class="browser">${describeUserAgent(s.userAgent)}</span>${s.current ? html` <span class="badge">this device</span>` : ''}</td>
<td data-label="Started">${when(s.created, now)}</td>
<td data-label="Last seen">${when(s.lastSeen, now)}</td>
</tr>`,
  );
  return html`<div class="card" id="active-sessions">
  <h2>Your active sessions</h2>
  <table class="sessions"><thead><tr><th>Browser</th><th>Started</th><th>Last seen</th></tr></thead><tbody>${rows}</tbody></table>
  ${buttonForm('/sessions/logout-others', 'Log out everywhere else', page.csrfToken)}
</div>`;
}

export function renderHomePage(
  view: SessionView,
  page: PageContext,
  sessions: readonly ActiveSession[] = [],
  notices: readonly string[] = [],
): string {
  const flash = notices.map((notice) => html`<p class="notice" role="status">${notice}</p>`);
  const account =
    view.username === null
      ? html`<form method="post" action="/login" class="login">
  ${csrfField(page.csrfToken)}
  <label>Name <input name="username" required maxlength="${USERNAME_MAX_LENGTH}" autocomplete="username"></label>
  <label class="remember"><input type="checkbox" name="remember"> Remember me for 30 days</label>
  <button type="submit">Log in</button>
</form>`
      : html`<p>Logged in as <strong id="username">${view.username}</strong>.</p>
${buttonForm('/logout', 'Log out', page.csrfToken)}`;

  return layout(
    'sessionkit sample',
    html`<h1>@sessionkit/nest sample</h1>
${flash}<div class="card">
  <p>You have loaded this page <strong id="visits">${view.visits}</strong> time(s) in this session.</p>
</div>
<div class="card">${account}</div>
${renderActiveSessions(sessions, page)}
<p class="api">JSON: <code>GET /api/session</code> (includes a <code>csrfToken</code>), then <code>POST /api/login</code> and
<code>POST /api/logout</code> with that token in the <code>x-csrf-token</code> header.</p>`,
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
