-- Argo CD health check for olares.com/OlaresInstallation (Lua 5.1 subset, as Argo CD runs it).
-- Suspended: spec.paused. Progressing: the operator has not yet reported on the current generation,
-- or is still converging. Degraded: Degraded=True, phase Degraded, or this installation is Ignored
-- (another one is honoured). Healthy: Ready=True, observed at the current generation.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if obj.status ~= nil and obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return fallback
end

local generation = obj.metadata.generation

if obj.spec ~= nil and obj.spec.paused == true then
  hs.status = "Suspended"
  hs.message = "spec.paused is true: the operator reports status but changes nothing"
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local degraded = condition("Degraded")
if obj.status.phase == "Degraded" or (degraded ~= nil and degraded.status == "True") then
  hs.status = "Degraded"
  hs.message = messageOf(degraded, "Installation is degraded")
  return hs
end

if obj.status.phase == "Ignored" then
  hs.status = "Degraded"
  hs.message = messageOf(nil, "Ignored: another OlaresInstallation is already honoured on this cluster")
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  if generation == nil or ready.observedGeneration == generation then
    hs.status = "Healthy"
    hs.message = messageOf(ready, "Olares is ready")
    if obj.status.version ~= nil then
      hs.message = "Olares " .. obj.status.version .. " is ready"
    end
    return hs
  end
  hs.status = "Progressing"
  hs.message = "Ready was reported for generation " .. tostring(ready.observedGeneration) ..
    "; waiting for generation " .. tostring(generation)
  return hs
end

hs.status = "Progressing"
local progressing = condition("Progressing")
if progressing ~= nil and progressing.status == "True" then
  hs.message = messageOf(progressing, "Installing")
else
  hs.message = messageOf(ready, "Phase " .. tostring(obj.status.phase or "Pending"))
end
return hs
