/*
 * HallOps call announcer: a chime (WebAudio, no sound file), then the call spoken in
 * Mandarin with speechSynthesis, repeated `repeat` times.
 *
 * Announcements are queued: they never overlap and none is dropped. Each item has a key;
 * an item whose key was announced (or queued) before is ignored, so a call is announced
 * once per display even when many arrive at once or arrive again after a resync. A recall
 * gets its own key and is announced again.
 *
 * Where no zh-CN voice is installed the chime still plays, the call is still shown by the
 * page, and `voiceAvailable` is false so the page can show 语音不可用.
 *
 * The text builders are pure functions (no DOM): Announcer.callText("A012", 5) ->
 * "请 A 零 一 二 号 到 5 号窗口 办理".
 *
 * Timing can be tuned per display with window.HALLOPS_ANNOUNCER = {chimeMs, gapMs, repeat}.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.Announcer = api;
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

  /**
   * A ticket number as Chinese halls read it: the letters, then each digit on its own.
   * "A012" -> "A 零 一 二"
   */
  function spellNumber(number) {
    var out = [];
    String(number == null ? '' : number).trim().split('').forEach(function (ch) {
      if (ch >= '0' && ch <= '9') out.push(DIGITS[ch.charCodeAt(0) - 48]);
      else if (/[A-Za-z]/.test(ch)) out.push(ch.toUpperCase());
      else if (ch.trim()) out.push(ch);
    });
    return out.join(' ');
  }

  /** The spoken call: "请 A 零 一 二 号 到 5 号窗口 办理". */
  function callText(number, windowNumber) {
    return '请 ' + spellNumber(number) + ' 号 到 ' + windowNumber + ' 号窗口 办理';
  }

  /** The call as shown on screen: "请 A012 号 到 5 号窗口 办理". */
  function displayText(number, windowNumber) {
    return '请 ' + String(number).trim().toUpperCase() + ' 号 到 ' + windowNumber + ' 号窗口 办理';
  }

  // Mandarin voices first; zh-HK is Cantonese and reads Mandarin text wrongly.
  function pickVoice(voices) {
    var list = Array.prototype.slice.call(voices || []);
    var norm = function (v) { return String(v.lang || '').replace('_', '-').toLowerCase(); };
    var tests = [
      function (l) { return l === 'zh-cn' || l === 'cmn-cn' || l === 'cmn-hans-cn' || l === 'zh-hans-cn'; },
      function (l) { return l === 'zh' || l === 'cmn' || l.indexOf('zh-hans') === 0; },
      function (l) { return l === 'zh-tw' || l === 'cmn-tw' || l.indexOf('zh-hant') === 0; }
    ];
    for (var i = 0; i < tests.length; i++) {
      var hits = list.filter(function (v) { return tests[i](norm(v)); });
      if (hits.length) return hits.filter(function (v) { return v.localService; })[0] || hits[0];
    }
    return null;
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  /**
   * new Announcer({repeat, chimeMs, gapMs, synth, onStatus(available, reason), onStart(item), onEnd(item)})
   * announcer.announceCall({key, number, window}) / announcer.enqueue({key, text, display})
   */
  function Announcer(opts) {
    opts = opts || {};
    var tune = (typeof window !== 'undefined' && window.HALLOPS_ANNOUNCER) || {};
    this.repeat = tune.repeat || opts.repeat || 2;
    this.chimeMs = tune.chimeMs != null ? tune.chimeMs : (opts.chimeMs != null ? opts.chimeMs : 1100);
    this.gapMs = tune.gapMs != null ? tune.gapMs : (opts.gapMs != null ? opts.gapMs : 600);
    this.synth = opts.synth !== undefined ? opts.synth
      : (typeof window !== 'undefined' && window.speechSynthesis) || null;
    this.onStatus = opts.onStatus || function () {};
    this.onStart = opts.onStart || function () {};
    this.onEnd = opts.onEnd || function () {};
    this.queue = [];
    this.seen = new Set();
    this.seenOrder = [];
    this.history = []; // announced items, in order (for diagnostics and tests)
    this.current = null;
    this.running = false;
    this.voice = null;
    this.voiceAvailable = null; // null: not known yet
    this.voiceReason = '';
    this.audio = null;
    this.chimes = 0;
    var self = this;
    // Deferred: onStatus may refer to the announcer, which the caller has not stored yet.
    this._ready = Promise.resolve().then(function () { return self._loadVoices(); });
  }

  Announcer.spellNumber = spellNumber;
  Announcer.callText = callText;
  Announcer.displayText = displayText;
  Announcer.pickVoice = pickVoice;

  Announcer.prototype._setVoice = function (voice, reason) {
    var available = !!voice;
    this.voice = voice;
    var changed = available !== this.voiceAvailable || reason !== this.voiceReason;
    this.voiceAvailable = available;
    this.voiceReason = available ? '' : reason;
    if (changed) this.onStatus(available, this.voiceReason);
  };

  Announcer.prototype._loadVoices = function () {
    var self = this;
    var synth = this.synth;
    if (!synth || typeof SpeechSynthesisUtterance === 'undefined') {
      this._setVoice(null, 'no-speech');
      return Promise.resolve();
    }
    var found = pickVoice(synth.getVoices());
    if (found) { this._setVoice(found, ''); return Promise.resolve(); }
    // Voices often load asynchronously: wait for voiceschanged, but not for long.
    return new Promise(function (resolve) {
      var done = false;
      var finish = function () {
        if (done) return;
        done = true;
        self._setVoice(pickVoice(synth.getVoices()), 'no-zh-voice');
        resolve();
      };
      try {
        synth.addEventListener('voiceschanged', function () {
          var v = pickVoice(synth.getVoices());
          if (v) { self._setVoice(v, ''); finish(); }
        });
      } catch (e) { /* old browsers */ }
      setTimeout(finish, 1500);
    });
  };

  Announcer.prototype._refreshVoice = function () {
    if (!this.synth) return;
    if (this.voiceReason === 'blocked') return; // stays until the next user gesture
    var v = pickVoice(this.synth.getVoices());
    this._setVoice(v, v ? '' : 'no-zh-voice');
  };

  /** Call after a user gesture (click/touch): unlocks audio and speech in browsers that need it. */
  Announcer.prototype.unlock = function () {
    var ctx = this._audio();
    if (ctx && ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
    if (this.voiceReason === 'blocked') {
      this.voiceReason = '';
      this._refreshVoice();
    }
  };

  Announcer.prototype.audioBlocked = function () {
    var ctx = this._audio();
    return !!(ctx && ctx.state === 'suspended');
  };

  /** True when the key was announced or is queued. */
  Announcer.prototype.has = function (key) { return this.seen.has(key); };

  /** Remember a key without announcing it (calls already on screen when the page opened). */
  Announcer.prototype.markSeen = function (key) {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length > 2000) this.seen.delete(this.seenOrder.shift());
  };

  Announcer.prototype.announceCall = function (call) {
    return this.enqueue({
      key: call.key, number: call.number, window: call.window,
      text: callText(call.number, call.window), display: displayText(call.number, call.window),
      recall: !!call.recall
    });
  };

  /** Queue an announcement; false when its key was seen before. */
  Announcer.prototype.enqueue = function (item) {
    if (item.key != null) {
      if (this.seen.has(item.key)) return false;
      this.markSeen(item.key);
    }
    this.queue.push(item);
    this._kick();
    return true;
  };

  Announcer.prototype.pending = function () { return this.queue.length + (this.current ? 1 : 0); };

  Announcer.prototype._kick = function () {
    var self = this;
    if (this.running) return;
    this.running = true;
    this._ready.then(function () { return self._drain(); }).catch(function (e) {
      if (typeof console !== 'undefined') console.error('announcer', e);
    }).then(function () {
      self.running = false;
      self.current = null;
      if (self.queue.length) self._kick();
    });
  };

  Announcer.prototype._drain = async function () {
    while (this.queue.length) {
      var item = this.queue.shift();
      this.current = item;
      try { this.onStart(item); } catch (e) { /* a page bug must not stop the queue */ }
      this.history.push({ key: item.key, text: item.text, at: Date.now() });
      if (this.history.length > 500) this.history.splice(0, this.history.length - 500);
      await this._chime();
      this._refreshVoice();
      if (this.voiceAvailable) {
        for (var i = 0; i < this.repeat; i++) {
          if (i > 0) await sleep(this.gapMs);
          await this._speak(item.text);
        }
      } else {
        await sleep(Math.max(1500, this.gapMs)); // still give each call its moment on screen
      }
      try { this.onEnd(item); } catch (e) { /* ignore */ }
      this.current = null;
      await sleep(this.gapMs);
    }
  };

  Announcer.prototype._audio = function () {
    if (this.audio) return this.audio;
    var Ctx = typeof window !== 'undefined' && (window.AudioContext || window.webkitAudioContext);
    if (!Ctx) return null;
    try { this.audio = new Ctx(); } catch (e) { this.audio = null; }
    return this.audio;
  };

  /** A two-tone "叮咚" chime, synthesized. Waits its length whether or not audio plays. */
  Announcer.prototype._chime = function () {
    this.chimes += 1;
    var ms = this.chimeMs;
    if (ms <= 0) return Promise.resolve();
    var ctx = this._audio();
    if (ctx) {
      try {
        if (ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
        var t0 = ctx.currentTime + 0.02;
        var notes = [[659.25, 0], [523.25, 0.45]]; // E5, C5
        var total = ms / 1000;
        notes.forEach(function (n) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = 'sine';
          osc.frequency.value = n[0];
          var start = t0 + n[1] * total / 1.1;
          var end = Math.min(t0 + total, start + 0.65 * total);
          gain.gain.setValueAtTime(0.0001, start);
          gain.gain.exponentialRampToValueAtTime(0.35, start + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, end);
          osc.connect(gain).connect(ctx.destination);
          osc.start(start);
          osc.stop(end + 0.05);
        });
      } catch (e) { /* no audio: the wait below keeps the rhythm */ }
    }
    return sleep(ms);
  };

  /** Speak once; resolves at the end (or on error, or after a safety timeout). */
  Announcer.prototype._speak = function (text) {
    var self = this;
    var synth = this.synth;
    return new Promise(function (resolve) {
      var finished = false;
      var done = function () {
        if (finished) return;
        finished = true;
        clearTimeout(guard);
        resolve();
      };
      // Some engines never fire onend: do not let one utterance block the queue.
      var guard = setTimeout(done, Math.max(8000, text.length * 700));
      try {
        var u = new SpeechSynthesisUtterance(text);
        u.lang = 'zh-CN';
        u.rate = 0.9;
        u.pitch = 1;
        u.volume = 1;
        try { if (self.voice) u.voice = self.voice; } catch (e) { /* not a platform voice object */ }
        u.onend = done;
        u.onerror = function (e) {
          if (e && e.error === 'not-allowed') self._setVoice(null, 'blocked');
          done();
        };
        synth.speak(u);
      } catch (e) {
        done();
      }
    });
  };

  return Announcer;
});
