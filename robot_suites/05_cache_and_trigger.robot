*** Settings ***
Documentation       Clear cache (step 22, Core) and TriggerMessage (step 23, Remote Trigger).
...                 Configuration these steps change is put back in each test's teardown.
Library             hil.robot.HilLab

*** Variables ***
${CONNECTION_TIMEOUT}     2    # s a presented tag without a cable stays valid during step 22

*** Test Cases ***
Clear cache
    [Documentation]    With LocalPreAuthorize on, a valid tag is first served from the cache
    ...    (no Authorize; a remark if the station asks anyway). ClearCache is then Accepted (a
    ...    station without a cache answers Rejected and fails), and the same tag must be
    ...    authorized online again: an Authorize is sent before the station accepts it.
    [Tags]    step:22    profile:Core    requires:identification
    ${tag}=    Lab Tag    valid
    Use Local Authorization Cache    connection_timeout=${CONNECTION_TIMEOUT}
    Tag Should Be Served From The Cache    ${tag}
    Clear Authorization Cache
    Presented Tag Should Be Authorized Online    ${tag}

TriggerMessage
    [Documentation]    For BootNotification, Heartbeat, StatusNotification (with and without a
    ...    connector), MeterValues, FirmwareStatusNotification and DiagnosticsStatusNotification
    ...    the answer (Accepted) comes first, then the message; MeterValues carry context
    ...    Trigger; idle firmware and diagnostics status is Idle. A message the station cannot
    ...    know is NotImplemented; a connector it does not have is Rejected (else a remark).
    ...    On 2.0.1 DiagnosticsStatusNotification is LogStatusNotification and a registered
    ...    station rejects a BootNotification trigger; while its boot is Pending, a triggered
    ...    BootNotification comes at once on either version.
    [Tags]    step:23    profile:RemoteTrigger    requires:trigger_message
    Keep Heartbeats Out Of The Way
    Trigger Message    Heartbeat
    Triggered Message Should Follow The Answer    Heartbeat
    Trigger Message    StatusNotification
    Triggered Message Should Follow The Answer    StatusNotification
    Trigger Message    StatusNotification    connector=1
    Triggered Message Should Follow The Answer    StatusNotification    connector=1
    Trigger Message    MeterValues    connector=1
    Triggered Message Should Follow The Answer    MeterValues    connector=1
    Trigger Message    FirmwareStatusNotification
    Triggered Message Should Follow The Answer    FirmwareStatusNotification    status=Idle
    Trigger Message    DiagnosticsStatusNotification
    Triggered Message Should Follow The Answer    DiagnosticsStatusNotification    status=Idle
    Trigger Message    BootNotification
    Triggered Message Should Follow The Answer    BootNotification
    Unknown Trigger Should Be Answered Not Implemented
    Trigger For A Missing Connector Should Be Rejected
    Triggered Boot Notification Should Come While Pending

*** Keywords ***
Triggered Boot Notification Should Come While Pending
    [Documentation]    Answer the next boot Pending with a long interval: the BootNotification
    ...    the lab then triggers comes at once, not after the interval (OCPP 1.6 §4.2 and
    ...    §5.17; 2.0.1 B02 and F06), and is Accepted.
    Answer Next Boot Notifications    Pending    Accepted    interval=60
    Restart Station
    Station Should Connect
    Boot Notification Should Come First
    Boot Notification Should Be Answered    Pending
    Trigger Message    BootNotification    expect=Accepted
    Triggered Message Should Follow The Answer    BootNotification
    Boot Notification Should Be Answered    Accepted
    Status Notification Should Arrive For Every Connector
