"""The staff side of the follow-up loop, independent of Telegram, one concept per module.

``queue`` (grouping and pages of open questions), ``suggest`` (nearest entries, YAML for faq/),
``posts`` (what a staff post shows), ``reply`` (what an investor receives), ``desk`` (delivering a staff
reply), ``stats`` and ``chart``, ``export`` (the CSV log), ``display`` (times, names, lengths).
Everything here is plain data or plain text; handlers/staff_posts.py renders posts and replies as
Telegram HTML.
"""
