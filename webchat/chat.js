// Web chat over Rasa's socket.io channel. Every text is inserted with
// textContent, never as HTML, so what residents or the bot write is shown
// as written and cannot inject markup.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var rasaUrl = params.get("rasa") || (window.location.protocol + "//" + window.location.hostname + ":5005");
  var sessionKey = "cdmx-assistant-session";
  var messages = document.getElementById("messages");
  var statusLine = document.getElementById("status");
  var input = document.getElementById("text");

  var socket = io(rasaUrl, { path: "/socket.io", transports: ["websocket", "polling"] });

  function scrollDown() { messages.scrollTop = messages.scrollHeight; }

  function addBubble(kind) {
    var li = document.createElement("li");
    li.className = kind;
    messages.appendChild(li);
    return li;
  }

  function showUser(text) {
    addBubble("user").textContent = text;
    scrollDown();
  }

  function send(text, shown) {
    if (!text) { return; }
    showUser(shown || text);
    socket.emit("user_uttered", { message: text, session_id: sessionId() });
  }

  function sessionId() {
    var id = window.localStorage.getItem(sessionKey);
    if (!id) {
      id = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() : String(Date.now()) + Math.random();
      window.localStorage.setItem(sessionKey, id);
    }
    return id;
  }

  socket.on("connect", function () {
    statusLine.textContent = "En línea / Online";
    socket.emit("session_request", { session_id: sessionId() });
  });
  socket.on("disconnect", function () { statusLine.textContent = "Sin conexión / Offline"; });
  socket.on("connect_error", function () { statusLine.textContent = "No hay conexión con el asistente / Can't reach the assistant"; });

  socket.on("bot_uttered", function (message) {
    var li = addBubble("bot");
    if (message.text) {
      var p = document.createElement("div");
      p.textContent = message.text;
      li.appendChild(p);
    }
    if (message.attachment && message.attachment.payload && message.attachment.payload.src) {
      var img = document.createElement("img");
      img.src = message.attachment.payload.src;
      img.alt = "";
      li.appendChild(img);
    }
    var buttons = message.quick_replies || message.buttons || [];
    if (buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(button);
      });
      li.appendChild(row);
    }
    scrollDown();
  });

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text);
  });

  document.getElementById("share-location").addEventListener("click", function () {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      var coords = { latitude: position.coords.latitude, longitude: position.coords.longitude };
      send("/share_location" + JSON.stringify(coords), "📍 " + coords.latitude.toFixed(5) + ", " + coords.longitude.toFixed(5));
    });
  });
}());
