"""Rasa input channels of the city assistant (custom connectors).

Listed in credentials.yml by class path; each serves /webhooks/<name>/webhook:
- channels.twilio_sms.TwilioSmsInput (name "twilio"): SMS through Twilio;
- channels.telegram_bot.TelegramBotInput ("telegram"), plus the polling runner
  `python -m channels.telegram_polling`;
- channels.messenger.MessengerInput ("facebook");
- channels.x_dm.XDirectMessageInput ("twitter"): X direct messages.

Settings (secrets, API base URLs) come from common/settings.py; what a bot
message looks like on each platform is decided in channels/render.py only.
"""
