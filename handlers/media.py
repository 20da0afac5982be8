"""Stickers, photos, voice, files and the like: a short note that the bot reads text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from handlers.context import AnyApplication, Context
from handlers.render import say
from handlers.ui import reply_html

# Private chats only: in a group, media is other people's conversation. Service messages (members
# joining, pins, ...) are not media and get no reply.
MEDIA_FILTER = (
    filters.UpdateType.MESSAGE
    & filters.ChatType.PRIVATE
    & (
        filters.Sticker.ALL
        | filters.PHOTO
        | filters.VOICE
        | filters.AUDIO
        | filters.VIDEO
        | filters.VIDEO_NOTE
        | filters.ANIMATION
        | filters.Document.ALL
        | filters.CONTACT
        | filters.LOCATION
        | filters.VENUE
        | filters.POLL
        | filters.Dice.ALL
        | filters.GAME
        | filters.STORY
    )
)


async def on_media(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    await reply_html(message, say(await context.services.ui_lang(update.effective_user), "text_only"))


def register(app: AnyApplication) -> None:
    app.add_handler(MessageHandler(MEDIA_FILTER, on_media))
