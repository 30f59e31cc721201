"""A county set up from the browser (issue 14, items 1–3): an administrator makes a
township, a village and a staff account, imports 30 representatives from an .xlsx
(after a file with three bad rows, which the check names and nothing is written),
deactivates one (their session ends) and resets another's password (they must choose
a new one before anything else)."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page, expect

from deliberation.tables import Account
from tests.api.test_import import xlsx
from tests.e2e.conftest import serious_accessibility_problems
from tests.e2e.pages import OFFICE, PHONE, signed_in
from tests.world import World, unique


async def sign_in_as(browser: Browser, live_server: str, username: str, password: str) -> Page:
    context: BrowserContext = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{live_server}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    return page


async def choose_new_password(page: Page, live_server: str, current: str, new: str) -> None:
    await expect(page).to_have_url(f"{live_server}/me/password")
    await page.get_by_label("当前密码").fill(current)
    await page.get_by_label("新密码", exact=True).fill(new)
    await page.get_by_label("确认新密码").fill(new)
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page.locator("#changed")).to_contain_text("密码已修改")
    await page.goto(f"{live_server}/me")
    await expect(page).to_have_url(f"{live_server}/me")


async def test_a_county_is_set_up_from_the_browser(
    live_server: str, world: World, browser: Browser
) -> None:
    admin = await signed_in(browser, live_server, world.admin, viewport=OFFICE)
    page = await admin.new_page()
    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/admin")

    township = unique("白沙镇")
    await page.locator("#township-form").get_by_label("乡镇名称").fill(township)
    await page.get_by_role("button", name="新建乡镇").click()
    await expect(page.locator("#saved")).to_have_text("乡镇已保存。")
    await page.locator("#village-form").get_by_label("所属乡镇").select_option(label=township)
    await page.locator("#village-form").get_by_label("村（社区）名称").fill("沙洲村")
    await page.get_by_role("button", name="新建村（社区）").click()
    await expect(page.locator("#townships")).to_contain_text("沙洲村")
    assert await serious_accessibility_problems(page) == []

    await page.get_by_role("link", name="账号").click()
    staff_name = unique("clerk")
    form = page.locator("#account-form")
    await form.get_by_label("姓名").fill("周文")
    await form.get_by_label("用户名").fill(staff_name)
    await form.get_by_label("角色").select_option(label="工作人员")
    await form.get_by_label("所属乡镇").select_option(label=township)
    await form.get_by_role("button", name="新建账号").click()
    await expect(page.locator("h1")).to_have_text("账号已建立")
    first = (await page.locator("#shown-password").inner_text()).strip()
    assert len(first) == 12
    assert await serious_accessibility_problems(page) == []

    # Thirty representatives: a file with three bad rows first.
    rows = [
        [i + 1, f"沙洲代表{i:02d}", "", "村（居）民代表", township, "沙洲村", 13900000000 + i]
        for i in range(30)
    ]
    broken = [list(r) for r in rows]
    broken[4][3] = "代表员"
    broken[11][5] = "不存在村"
    broken[20][6] = "1390000"
    await page.goto(f"{live_server}/admin/import")
    before = await Account.count()
    await page.get_by_label("填好的表格").set_input_files(
        {"name": "代表名单.xlsx", "mimeType": "application/octet-stream", "buffer": xlsx(broken)}
    )
    await page.get_by_role("button", name="检查（不写入）").click()
    errors = page.locator("#import-errors tbody tr")
    await expect(errors).to_have_count(3)
    await expect(errors.nth(0)).to_contain_text("第 6 行")
    await expect(errors.nth(0)).to_contain_text("代表员")
    await expect(errors.nth(1)).to_contain_text("第 13 行")
    await expect(errors.nth(2)).to_contain_text("第 22 行")
    assert await Account.count() == before
    assert await serious_accessibility_problems(page) == []

    await page.get_by_label("填好的表格").set_input_files(
        {"name": "代表名单.xlsx", "mimeType": "application/octet-stream", "buffer": xlsx(rows)}
    )
    await page.get_by_role("button", name="检查（不写入）").click()
    await expect(page.locator("#checked-title")).to_contain_text("30 行都可以导入")
    assert await Account.count() == before
    await page.get_by_role("button", name="确认导入 30 个账号").click()
    created = page.locator("#created tbody tr")
    await expect(created).to_have_count(30)
    href = await page.locator("#sheet-link").get_attribute("href")
    assert href is not None and href.startswith("data:application/pdf;base64,")
    assert await Account.count() == before + 30
    accounts = []
    for n in (0, 1):
        cells = created.nth(n).locator("td")
        accounts.append(((await cells.nth(1).inner_text()), (await cells.nth(2).inner_text())))

    # The first representative signs in (and chooses a password); then is deactivated.
    (gone_user, gone_first), (reset_user, reset_first) = accounts
    person = await sign_in_as(browser, live_server, gone_user, gone_first)
    await choose_new_password(person, live_server, gone_first, "shazhou-mima-2026")
    await page.goto(f"{live_server}/admin/accounts?q={gone_user}")
    await page.locator("#accounts").get_by_role("link").first.click()
    await page.locator("#active-form").get_by_label("确认停用").check()
    await page.get_by_role("button", name="停用账号").click()
    await expect(page.locator("#saved")).to_contain_text("账号已停用")
    await person.goto(f"{live_server}/me")
    await expect(person).to_have_url(f"{live_server}/login?next=/me")

    # The other one's password is reset: they must choose a new one first.
    await page.goto(f"{live_server}/admin/accounts?q={reset_user}")
    await page.locator("#accounts").get_by_role("link").first.click()
    await page.locator("#reset-form").get_by_label("确认重置").check()
    await page.get_by_role("button", name="重置密码").click()
    await expect(page.locator("h1")).to_have_text("密码已重置")
    temporary = (await page.locator("#shown-password").inner_text()).strip()
    assert temporary != reset_first
    again = await sign_in_as(browser, live_server, reset_user, temporary)
    await again.goto(f"{live_server}/topics/new")
    await expect(again).to_have_url(f"{live_server}/me/password")  # before anything else
    await choose_new_password(again, live_server, temporary, "shazhou-xinmima-2026")

    await page.goto(f"{live_server}/admin/security-log?username={reset_user}")
    await expect(page.locator("#log")).to_contain_text("重置密码")
    assert await serious_accessibility_problems(page) == []
    await admin.close()
    await person.context.close()
    await again.context.close()
