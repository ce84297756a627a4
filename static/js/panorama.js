// The 360° panorama lesson and its hazard-spotting drill.
//
// The equirectangular image is drawn on the inside of a sphere by the vendored A-Frame
// (WebGL; WebXR "Enter VR" on headsets; gyroscope "magic window" on phones). Hazards stay
// invisible until the learner taps close to one; then a marker appears and the hazard is listed.
// Information hotspots (hazard: false) are shown from the start.
//
// The page knows no hazard the learner has not found (data-spots holds the information
// hotspots and the hazards found so far): each tap's direction goes to the server (data-tap-url),
// which says what is there, records a found hazard and completes the lesson when every hazard is
// found (app/learning/hotspots.py). Modes (data-mode): "server" for the learner; "local" for an
// author's preview, whose data-spots holds every hotspot and which judges taps here; "view" for
// anyone else looking at a learner's lesson (shows what the learner found, checks nothing).
//
// Angles follow the course package: yaw in degrees, -180..180, 0 = the centre of the image,
// positive to the right; pitch -90..90, positive up. In the scene the image centre is at -z,
// so a direction (x, y, z) has yaw atan2(x, -z) and pitch asin(y).
//
// Every text shown comes from the page (data-msg-* attributes and the spots' labels, translated
// by the server). Without WebGL the flat picture stays and taps on it are mapped to yaw and
// pitch directly.
(function () {
  "use strict";
  var root = document.getElementById("panorama");
  var box = document.querySelector("[data-panorama]");
  if (!root || !box) { return; }

  var TOLERANCE = 10;        // degrees of great-circle distance that count as a hit (preview)
  var MARKER_DISTANCE = 10;  // scene units from the viewer (the sky sphere has radius 500)
  var MARKER_DEGREES = 4.5;  // angular size of a marker's disc
  var MIN_FOV = 30;
  var MAX_FOV = 100;
  var KEY_STEP = 5;          // degrees per arrow key press
  var DEG = Math.PI / 180;

  var lesson = document.getElementById("lesson");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var img = root.querySelector(".panorama-fallback");
  var mode = box.dataset.mode || "view";
  var tapUrl = box.dataset.tapUrl;
  var feedback = box.querySelector("[data-feedback]");
  var counter = box.querySelector("[data-found-count]");
  var list = box.querySelector("[data-found-list]");
  var tools = box.querySelector("[data-tools]");
  var spots = {};   // by index: { index, yaw, pitch, hazard, label, description }
  var found = {};
  var foundTotal = 0;  // hazards found, as the server last said (it may know more than we do)
  var view = null;  // the 3D or the flat view, once ready

  parseJSON(root.dataset.spots, []).forEach(function (spot) {
    spots[spot.index] = spot;
    if (spot.hazard && mode !== "local") { found[spot.index] = true; }
  });
  foundTotal = Object.keys(found).length;

  function parseJSON(text, fallback) {
    try { return JSON.parse(text || ""); } catch (e) { return fallback; }
  }

  function eachSpot(callback) {
    Object.keys(spots).forEach(function (key) { callback(spots[key], Number(key)); });
  }

  function describe(spot) {
    return spot.label + (spot.description ? " — " + spot.description : "");
  }

  // Great-circle distance in degrees between two (yaw, pitch) directions.
  function distance(yaw1, pitch1, yaw2, pitch2) {
    var cos = Math.sin(pitch1 * DEG) * Math.sin(pitch2 * DEG) +
      Math.cos(pitch1 * DEG) * Math.cos(pitch2 * DEG) * Math.cos((yaw1 - yaw2) * DEG);
    return Math.acos(Math.max(-1, Math.min(1, cos))) / DEG;
  }

  // The index of the closest known hotspot within TOLERANCE that `accept` accepts, or -1.
  function nearest(yaw, pitch, accept) {
    var best = -1;
    var bestDistance = TOLERANCE;
    eachSpot(function (spot, index) {
      if (!accept(spot, index)) { return; }
      var d = distance(yaw, pitch, Number(spot.yaw), Number(spot.pitch));
      if (d <= bestDistance) { best = index; bestDistance = d; }
    });
    return best;
  }

  function hazardTotal() {
    if (mode === "local") {
      var n = 0;
      eachSpot(function (spot) { if (spot.hazard) { n += 1; } });
      return n;
    }
    return Number(box.dataset.hazards || 0);
  }

  function foundCount() {
    var n = 0;
    eachSpot(function (spot, index) { if (spot.hazard && found[index]) { n += 1; } });
    return Math.max(n, mode === "local" ? 0 : foundTotal);
  }

  function say(message, kind) {
    if (!feedback) { return; }
    feedback.dataset.kind = kind;
    feedback.textContent = message;
  }

  function updateCount() {
    if (counter) { counter.textContent = String(foundCount()); }
  }

  function listItem(index) {
    return list ? list.querySelector('[data-index="' + index + '"]') : null;
  }

  function addToList(index) {
    if (!list || listItem(index)) { return; }
    var item = document.createElement("li");
    var label = document.createElement("strong");
    item.dataset.index = String(index);
    label.textContent = spots[index].label;
    item.appendChild(label);
    if (spots[index].description) {
      item.appendChild(document.createTextNode(" — " + spots[index].description));
    }
    list.appendChild(item);
  }

  function markFound(spot) {
    spots[spot.index] = spot;
    found[spot.index] = true;
    if (view) { view.show(spot.index); }
    addToList(spot.index);
    updateCount();
  }

  function lessonCompleted(courseCompleted) {
    if (lesson && lesson.dataset.completed !== "1") {
      lesson.dataset.completed = "1";
      var status = lesson.querySelector("[data-status-text]");
      if (status) { status.textContent = lesson.dataset.doneText || "\u2713"; }
      lesson.classList.add("is-complete");
    }
    if (foundCount() >= hazardTotal()) {
      say(box.dataset.msgAll + (courseCompleted ? " " + box.dataset.msgCourseDone : ""), "done");
    }
  }

  function missed(yaw, pitch) {
    say(box.dataset.msgMiss, "miss");
    if (view) { view.miss(yaw, pitch); }
  }

  // The server's answer to a tap (see HotspotTapOut in app/learning/schemas.py).
  function answered(data, yaw, pitch) {
    foundTotal = Math.max(foundTotal, data.hazards_found || 0);
    var spot = data.spot;
    if (data.outcome === "found") {
      markFound(spot);
      say(box.dataset.msgFound + " " + spot.label, "found");  // described in the list
    } else if (data.outcome === "found_before") {
      markFound(spot);
      say(box.dataset.msgAlready + " " + spot.label, "info");
    } else if (data.outcome === "information") {
      spots[spot.index] = spot;
      if (view) { view.show(spot.index); }
      say(describe(spot), "info");
    } else {
      missed(yaw, pitch);
    }
    updateCount();
    if (data.lesson_completed && data.outcome === "found") { lessonCompleted(data.course_completed); }
  }

  function ask(yaw, pitch) {
    fetch(tapUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": csrf },
      body: JSON.stringify({ yaw: yaw, pitch: pitch })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok && data) { answered(data, yaw, pitch); return; }
        // Too many misses (429) and other refusals say why, in the learner's language.
        say(data && data.detail && response.status < 500 ? data.detail : box.dataset.msgFailed,
            "error");
      });
    }).catch(function () {
      say(box.dataset.msgFailed, "error");
    });
  }

  // The learner pointed at (yaw, pitch).
  function attempt(yaw, pitch) {
    // Keep the angles inside the package's ranges (the server refuses anything else).
    yaw = ((yaw + 540) % 360) - 180;
    pitch = Math.max(-90, Math.min(90, pitch));
    if (mode === "server") { ask(yaw, pitch); return; }
    var index = -1;
    if (mode === "local") {
      index = nearest(yaw, pitch, function (spot, i) { return spot.hazard && !found[i]; });
      if (index >= 0) {
        markFound(spots[index]);
        say(box.dataset.msgFound + " " + spots[index].label, "found");
        if (foundCount() === hazardTotal()) { say(box.dataset.msgAll, "done"); }
        return;
      }
    }
    index = nearest(yaw, pitch, function (spot, i) { return !spot.hazard || found[i]; });
    if (index >= 0) {
      say(spots[index].hazard ? box.dataset.msgAlready + " " + spots[index].label
                              : describe(spots[index]), "info");
    } else if (mode === "local") {
      missed(yaw, pitch);
    } else {
      say(box.dataset.msgViewOnly, "info");
    }
  }

  function visible(index) {
    return !spots[index].hazard || !!found[index];
  }

  function ready(kind) {
    root.classList.add("is-ready", "is-" + kind);
    box.classList.add("is-" + kind);
    root.dataset.ready = kind;
    eachSpot(function (spot, index) { if (visible(index)) { view.show(index); } });
  }

  // --- the flat picture (no WebGL) ---------------------------------------------------------

  function startFlat() {
    var pins = {};
    var missTimer = null;
    var missPin = document.createElement("span");
    missPin.className = "panorama-pin is-miss";
    missPin.hidden = true;
    missPin.setAttribute("aria-hidden", "true");
    root.appendChild(missPin);

    function place(el, yaw, pitch) {
      el.style.left = ((Number(yaw) / 360 + 0.5) * 100) + "%";
      el.style.top = ((0.5 - Number(pitch) / 180) * 100) + "%";
    }

    view = {
      show: function (index) {
        if (pins[index]) { return; }
        var pin = document.createElement("span");
        pin.className = "panorama-pin " + (spots[index].hazard ? "is-hazard" : "is-info") +
          (Number(spots[index].yaw) > 60 ? " is-left" : "");
        pin.textContent = spots[index].label;
        place(pin, spots[index].yaw, spots[index].pitch);
        root.appendChild(pin);
        pins[index] = pin;
      },
      hide: function (index) {
        if (pins[index]) { root.removeChild(pins[index]); delete pins[index]; }
      },
      miss: function (yaw, pitch) {
        place(missPin, yaw, pitch);
        missPin.hidden = false;
        window.clearTimeout(missTimer);
        missTimer = window.setTimeout(function () { missPin.hidden = true; }, 1200);
      }
    };
    img.addEventListener("click", function (event) {
      var rect = img.getBoundingClientRect();
      attempt(((event.clientX - rect.left) / rect.width - 0.5) * 360,
              (0.5 - (event.clientY - rect.top) / rect.height) * 180);
    });
    var note = box.querySelector("[data-flat-note]");
    if (note) { note.hidden = false; }
    ready("flat");
  }

  // --- the 3D view ---------------------------------------------------------------------------

  function hasWebGL() {
    try {
      var canvas = document.createElement("canvas");
      return !!(window.WebGLRenderingContext &&
                (canvas.getContext("webgl2") || canvas.getContext("webgl")));
    } catch (e) {
      return false;
    }
  }

  function start3D() {
    var AFRAME = window.AFRAME;
    var THREE = AFRAME.THREE;
    var scene = document.createElement("a-scene");
    var sky = document.createElement("a-sky");
    var cameraEl = document.createElement("a-entity");
    var markers = {};
    var missSprite = null;
    var missTimer = null;
    var raycaster = new THREE.Raycaster();
    var pointer = new THREE.Vector2();
    var direction = new THREE.Vector3();

    scene.setAttribute("embedded", "");
    scene.setAttribute("loading-screen", "enabled: false");
    scene.setAttribute("xr-mode-ui", "enabled: false");  // our own, translated button instead
    scene.setAttribute("device-orientation-permission-ui", "enabled: false");
    scene.setAttribute("keyboard-shortcuts", "enterVR: false");
    // The image is the <img> already on the page: no second download.
    sky.setAttribute("src", "#" + img.id);
    sky.setAttribute("rotation", "0 -90 0");  // the image centre (yaw 0) at -z
    cameraEl.setAttribute("position", "0 0 0");
    cameraEl.setAttribute("camera", "fov: 75");
    // Drag, pinch and keys are ours (both axes, taps told from drags); A-Frame keeps the
    // gyroscope (magic window) and the headset pose.
    cameraEl.setAttribute("look-controls",
                          "mouseEnabled: false; touchEnabled: false; magicWindowTrackingEnabled: true");
    scene.appendChild(sky);
    scene.appendChild(cameraEl);
    ["left", "right"].forEach(function (hand) {
      // A laser from each VR controller to aim with; its models would come from a CDN.
      var controller = document.createElement("a-entity");
      controller.setAttribute("laser-controls", "hand: " + hand + "; model: false");
      controller.setAttribute("raycaster", "objects: [data-pano-none]; far: 50");
      scene.appendChild(controller);
    });

    function lookControls() { return cameraEl.components["look-controls"]; }
    function camera() { return cameraEl.getObject3D("camera"); }
    function fov() { return Number(cameraEl.getAttribute("camera").fov); }

    function fromYawPitch(yaw, pitch, target) {
      return target.set(Math.cos(pitch * DEG) * Math.sin(yaw * DEG), Math.sin(pitch * DEG),
                        -Math.cos(pitch * DEG) * Math.cos(yaw * DEG));
    }

    function toYawPitch(dir) {
      var v = dir.clone().normalize();
      return { yaw: Math.atan2(v.x, -v.z) / DEG, pitch: Math.asin(Math.max(-1, Math.min(1, v.y))) / DEG };
    }

    // Bring the camera's matrices up to date with the latest drag, key or sensor input.
    function syncCamera() {
      var controls = lookControls();
      if (controls && !scene.is("vr-mode")) { controls.updateOrientation(); }
      cameraEl.object3D.updateMatrixWorld(true);
    }

    function centre() {
      syncCamera();
      camera().getWorldDirection(direction);
      return toYawPitch(direction);
    }

    function attemptDirection(dir) {
      var angles = toYawPitch(dir);
      attempt(angles.yaw, angles.pitch);
    }

    // Turn the view by (yaw, pitch) degrees; pitch is kept short of straight up and down.
    function turn(dYaw, dPitch) {
      var controls = lookControls();
      if (!controls) { return; }
      controls.yawObject.rotation.y -= dYaw * DEG;
      var pitch = controls.pitchObject.rotation.x + dPitch * DEG;
      controls.pitchObject.rotation.x = Math.max(-85 * DEG, Math.min(85 * DEG, pitch));
    }

    function lookAt(yaw, pitch) {
      var controls = lookControls();
      if (!controls) { return; }
      controls.yawObject.rotation.y = -yaw * DEG;
      controls.pitchObject.rotation.x = Math.max(-85, Math.min(85, pitch)) * DEG;
      syncCamera();
    }

    function zoom(steps) {
      var value = Math.max(MIN_FOV, Math.min(MAX_FOV, fov() * Math.pow(1.25, steps)));
      cameraEl.setAttribute("camera", "fov", value);
    }

    // A marker: a disc ("!" for a hazard, "i" for information) with its label underneath,
    // drawn on a canvas so that any script (Chinese included) renders, in VR too.
    function makeSprite(label, colour, glyph) {
      var s = 2;  // canvas pixels per CSS pixel, for sharp text
      var radius = 22 * s;
      var labelHeight = label ? 40 * s : 0;
      var gap = label ? 8 * s : 0;
      var canvas = document.createElement("canvas");
      var ctx = canvas.getContext("2d");
      var font = "600 " + (24 * s) + "px system-ui, -apple-system, 'Segoe UI', 'PingFang SC', " +
        "'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif";
      ctx.font = font;
      var textWidth = label ? ctx.measureText(label).width : 0;
      var width = Math.ceil(Math.max(2 * radius + 8 * s, textWidth + 28 * s));
      var height = Math.ceil(2 * radius + 4 * s + gap + labelHeight);
      canvas.width = width;
      canvas.height = height;
      var cy = radius + 2 * s;
      ctx.beginPath();
      ctx.arc(width / 2, cy, radius - 2 * s, 0, 2 * Math.PI);
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.lineWidth = 4 * s;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.fillStyle = "#ffffff";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = "700 " + (26 * s) + "px system-ui, sans-serif";
      ctx.fillText(glyph, width / 2, cy + s);
      if (label) {
        var top = 2 * radius + 4 * s + gap;
        var left = (width - textWidth) / 2 - 14 * s;
        ctx.fillStyle = "rgba(0, 0, 0, 0.72)";
        ctx.beginPath();
        if (ctx.roundRect) {
          ctx.roundRect(left, top, textWidth + 28 * s, labelHeight, 10 * s);
        } else {
          ctx.rect(left, top, textWidth + 28 * s, labelHeight);
        }
        ctx.fill();
        ctx.fillStyle = "#ffffff";
        ctx.font = font;
        ctx.fillText(label, width / 2, top + labelHeight / 2 + s);
      }
      var texture = new THREE.CanvasTexture(canvas);
      texture.colorSpace = THREE.SRGBColorSpace;
      var material = new THREE.SpriteMaterial({ map: texture, depthTest: false, transparent: true });
      var sprite = new THREE.Sprite(material);
      // World units per canvas pixel so that the disc spans MARKER_DEGREES.
      var unit = 2 * MARKER_DISTANCE * Math.tan(MARKER_DEGREES * DEG / 2) / (2 * radius);
      sprite.scale.set(width * unit, height * unit, 1);
      sprite.center.set(0.5, 1 - cy / height);  // the disc's centre sits on the hotspot
      sprite.renderOrder = 30;  // over the reticle
      return sprite;
    }

    function placeSprite(sprite, yaw, pitch) {
      fromYawPitch(yaw, pitch, sprite.position).multiplyScalar(MARKER_DISTANCE);
    }

    view = {
      show: function (index) {
        if (markers[index]) { markers[index].visible = true; return; }
        var spot = spots[index];
        var sprite = makeSprite(spot.label, spot.hazard ? "#dc2626" : "#2563eb",
                                spot.hazard ? "!" : "i");
        placeSprite(sprite, Number(spot.yaw), Number(spot.pitch));
        scene.object3D.add(sprite);
        markers[index] = sprite;
      },
      hide: function (index) {
        if (markers[index]) { markers[index].visible = false; }
      },
      miss: function (yaw, pitch) {
        if (!missSprite) {
          missSprite = makeSprite("", "rgba(60, 60, 60, 0.85)", "\u00d7");
          scene.object3D.add(missSprite);
        }
        placeSprite(missSprite, yaw, pitch);
        missSprite.visible = true;
        window.clearTimeout(missTimer);
        missTimer = window.setTimeout(function () { missSprite.visible = false; }, 1200);
      }
    };

    // A small ring in the middle of the view: what "report at the view centre", the keyboard
    // and a headset's gaze aim with.
    function addReticle() {
      var group = new THREE.Group();
      [[0.011, 0.017, "#000000", 0.5], [0.012, 0.016, "#ffffff", 0.95]].forEach(function (ring) {
        var mesh = new THREE.Mesh(new THREE.RingGeometry(ring[0], ring[1], 32),
                                  new THREE.MeshBasicMaterial({ color: ring[2], transparent: true,
                                                                opacity: ring[3], depthTest: false }));
        mesh.renderOrder = 20;
        group.add(mesh);
      });
      group.position.set(0, 0, -1);
      camera().add(group);
    }

    // Pointer input: one finger or the mouse drags the view, two fingers pinch to zoom, and a
    // short press without movement is a tap on that spot.
    var pointers = {};
    var drag = null;
    var pinch = null;

    function spread() {
      var ids = Object.keys(pointers);
      var a = pointers[ids[0]];
      var b = pointers[ids[1]];
      return Math.max(1, Math.hypot(a.x - b.x, a.y - b.y));
    }

    function tapAt(x, y) {
      var rect = scene.canvas.getBoundingClientRect();
      pointer.set(((x - rect.left) / rect.width) * 2 - 1, -((y - rect.top) / rect.height) * 2 + 1);
      syncCamera();
      raycaster.setFromCamera(pointer, camera());
      attemptDirection(raycaster.ray.direction);
    }

    root.addEventListener("pointerdown", function (event) {
      if (scene.is("vr-mode") || (event.pointerType === "mouse" && event.button !== 0)) { return; }
      if (root.setPointerCapture) { root.setPointerCapture(event.pointerId); }
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      if (Object.keys(pointers).length === 1) {
        drag = { id: event.pointerId, x: event.clientX, y: event.clientY, startX: event.clientX,
                 startY: event.clientY, time: Date.now(), moved: false };
      } else {
        if (drag) { drag.moved = true; }
        pinch = { spread: spread(), fov: fov() };
      }
    });
    root.addEventListener("pointermove", function (event) {
      if (!pointers[event.pointerId]) { return; }
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      if (pinch && Object.keys(pointers).length >= 2) {
        var value = pinch.fov * pinch.spread / spread();
        cameraEl.setAttribute("camera", "fov", Math.max(MIN_FOV, Math.min(MAX_FOV, value)));
        return;
      }
      if (!drag || drag.id !== event.pointerId) { return; }
      if (!drag.moved && Math.hypot(event.clientX - drag.startX, event.clientY - drag.startY) > 6) {
        drag.moved = true;
        root.classList.add("is-dragging");
      }
      if (drag.moved) {
        var degreesPerPixel = fov() / Math.max(1, root.clientHeight);
        turn(-(event.clientX - drag.x) * degreesPerPixel, (event.clientY - drag.y) * degreesPerPixel);
      }
      drag.x = event.clientX;
      drag.y = event.clientY;
    });
    function pointerEnd(event) {
      if (!pointers[event.pointerId]) { return; }
      delete pointers[event.pointerId];
      if (drag && drag.id === event.pointerId) {
        if (event.type === "pointerup" && !drag.moved && Date.now() - drag.time < 800) {
          tapAt(event.clientX, event.clientY);
        }
        drag = null;
        root.classList.remove("is-dragging");
      }
      if (Object.keys(pointers).length < 2) { pinch = null; }
    }
    root.addEventListener("pointerup", pointerEnd);
    root.addEventListener("pointercancel", pointerEnd);

    root.addEventListener("keydown", function (event) {
      var handled = true;
      switch (event.key) {
        case "ArrowLeft": turn(-KEY_STEP, 0); break;
        case "ArrowRight": turn(KEY_STEP, 0); break;
        case "ArrowUp": turn(0, KEY_STEP); break;
        case "ArrowDown": turn(0, -KEY_STEP); break;
        case "+": case "=": zoom(-1); break;
        case "-": case "_": zoom(1); break;
        case "Enter": case " ": reportCentre(); break;
        default: handled = false;
      }
      if (handled) { event.preventDefault(); }
    });

    function reportCentre() {
      var angles = centre();
      attempt(angles.yaw, angles.pitch);
    }

    // Headsets: a controller's trigger or a gaze "select" (Cardboard button) picks the spot
    // the ray points at. The camera rig stays at the origin, so the reference space's
    // directions are the scene's.
    function onSelect(event) {
      var space = scene.renderer.xr.getReferenceSpace();
      var pose = space && event.frame.getPose(event.inputSource.targetRaySpace, space);
      if (!pose) { return; }
      var o = pose.transform.orientation;
      attemptDirection(new THREE.Vector3(0, 0, -1).applyQuaternion(new THREE.Quaternion(o.x, o.y, o.z, o.w)));
    }
    scene.addEventListener("enter-vr", function () {
      root.classList.add("is-vr");
      if (scene.xrSession) { scene.xrSession.addEventListener("select", onSelect); }
    });
    scene.addEventListener("exit-vr", function () { root.classList.remove("is-vr"); });

    function setUpTools() {
      tools.hidden = false;
      tools.querySelector("[data-report]").addEventListener("click", reportCentre);
      Array.prototype.forEach.call(tools.querySelectorAll("[data-zoom]"), function (button) {
        button.addEventListener("click", function () { zoom(Number(button.dataset.zoom)); });
      });
      var vrButton = tools.querySelector("[data-enter-vr]");
      if (navigator.xr && navigator.xr.isSessionSupported) {
        navigator.xr.isSessionSupported("immersive-vr").then(function (supported) {
          vrButton.hidden = !supported;
        }).catch(function () { vrButton.hidden = true; });
      }
      vrButton.addEventListener("click", function () {
        scene.enterVR().catch(function () { vrButton.hidden = true; });
      });
      // Phones: the gyroscope turns the view ("magic window"). Where the browser asks for
      // permission (iOS) it may only do so from a tap, hence the button; where the answer
      // needs no tap it is asked at once, as A-Frame would.
      var motionButton = tools.querySelector("[data-motion]");
      function motionGranted() {
        scene.emit("deviceorientationpermissiongranted");
        motionButton.hidden = true;
      }
      if (scene.isMobile && typeof DeviceOrientationEvent !== "undefined" &&
          typeof DeviceOrientationEvent.requestPermission === "function") {
        DeviceOrientationEvent.requestPermission().then(function (state) {
          if (state === "granted") { motionGranted(); } else { motionButton.hidden = false; }
        }).catch(function () { motionButton.hidden = false; });
        motionButton.addEventListener("click", function () {
          DeviceOrientationEvent.requestPermission().then(function (state) {
            if (state === "granted") { motionGranted(); } else { say(box.dataset.msgMotionOff, "info"); }
          }).catch(function () { say(box.dataset.msgMotionOff, "info"); });
        });
      }
    }

    sky.addEventListener("materialtextureloaded", function () {
      // A focusable widget that takes the arrow keys itself.
      root.setAttribute("role", "application");
      root.tabIndex = 0;
      addReticle();
      setUpTools();
      ready("3d");
    });
    root.appendChild(scene);

    window.PitheadPanorama = {
      lookAt: lookAt,
      view: function () { var c = centre(); return { yaw: c.yaw, pitch: c.pitch, fov: fov() }; },
      reportCentre: reportCentre,
      scene: scene
    };
  }

  function start() {
    if (!img) { return; }
    if (!window.AFRAME || !hasWebGL()) { startFlat(); return; }
    try {
      start3D();
    } catch (e) {
      startFlat();
    }
  }

  updateCount();
  if (img && img.complete && img.naturalWidth) {
    start();
  } else if (img) {
    img.addEventListener("load", start, { once: true });
  }
})();
