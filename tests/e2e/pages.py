"""What the browser tests share: viewports and signing in through the login page."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, BrowserContext, expect

from tests.world import PASSWORD, Actor

PHONE = {"width": 360, "height": 740}
OFFICE = {"width": 1280, "height": 900}


async def sign_in(
    browser: Browser,
    live_server: str,
    username: str,
    password: str = PASSWORD,
    *,
    viewport: dict[str, int] | None = None,
    javascript: bool = True,
) -> BrowserContext:
    """A browser of its own (phone-sized unless told), signed in on the login page."""
    context = await browser.new_context(
        viewport=viewport or PHONE, locale="zh-CN", java_script_enabled=javascript
    )
    page = await context.new_page()
    await page.goto(f"{live_server}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    # To their work: /me, or the county view for the county's supervisor.
    await expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/(me|county|admin)$"))
    await page.close()
    return context


async def signed_in(
    browser: Browser, live_server: str, actor: Actor, **options: Any
) -> BrowserContext:
    return await sign_in(browser, live_server, actor.user["username"], **options)


LARGE_TEXT_CHECK = """
() => {
  const problems = [];
  const style = el => getComputedStyle(el);
  const px = el => parseFloat(style(el).fontSize);
  const shown = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && style(el).visibility !== 'hidden'
      && !el.closest('.sr, [hidden], details:not([open]) > :not(summary)');
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '')
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 12) + '"';
  const luminance = rgb => {
    const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const rgba = text => (text.match(/[\\d.]+/g) || []).map(Number);
  const background = el => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgba(style(at).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const body = px(document.body);
  if (body < 24) problems.push(`body text ${body}px < 24px`);
  for (const h of document.querySelectorAll('h1, h2, h3')) {
    if (shown(h) && px(h) <= body) problems.push(`${name(h)} ${px(h)}px is not larger than the body (${body}px)`);
  }
  // Every element holding text of its own: at least the body size, line height >= 1.3,
  // contrast >= 4.5:1 against what is behind it.
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const field = el.matches('input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, button');
    if (!(own || field) || !shown(el) || el.matches('option, script, style')) continue;
    const size = px(el);
    if (size < 23.9) problems.push(`${name(el)} ${size}px`);
    const lh = style(el).lineHeight;
    if (lh !== 'normal' && parseFloat(lh) < 1.3 * size - 0.5) problems.push(`${name(el)} line height ${lh} for ${size}px`);
    const fg = rgba(style(el).color).slice(0, 3);
    const [a, b] = [luminance(fg), luminance(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push(`${name(el)} contrast ${ratio.toFixed(2)}:1`);
  }
  // Touch targets: buttons, fields, choices, folded parts, the header and page links.
  const targets = 'a.button, button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, '
    + 'textarea, summary, label.choice, header.site a, nav a, .pager a';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 59.5 || box.height < 59.5) problems.push(`${name(el)} target ${Math.round(box.width)}x${Math.round(box.height)}`);
  }
  // Dates and times never break inside (2026-12-0 / 3).
  for (const el of document.querySelectorAll('.date, time')) {
    if (shown(el) && el.getClientRects().length > 1) problems.push(`${name(el)} wraps`);
  }
  return problems;
}
"""
"""What a page breaks of the ageing-friendly (适老化) large-text figures (MIIT): body text
of 24 px (18 pt) or more everywhere, headings larger than the body, line height of 1.3
or more, contrast of 4.5:1, touch targets of 60 x 60 px; dates that never wrap inside.
Measured on the page as drawn."""
