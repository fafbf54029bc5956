*** Settings ***
Documentation       Core profile: boot, availability, configuration and heartbeat (steps 1-5).
Library             hil.robot.HilLab
Resource            resources/core.resource
Test Tags           profile:Core

*** Test Cases ***
Boot Charging Station
    [Documentation]    BootNotification comes first and nothing else before it is Accepted;
    ...    then StatusNotification for connector 0 and every connector, then Heartbeat at the
    ...    returned interval. Pending: the station answers configuration requests but sends
    ...    nothing unasked. Rejected: silence until the interval has passed.
    [Tags]    step:1
    Restart Station
    Station Should Connect
    Boot Notification Should Come First
    Boot Notification Should Be Answered    Accepted
    Status Notification Should Arrive For Every Connector
    Heartbeat Should Arrive At The Boot Interval
    Boot Should Wait While Pending
    Boot Should Wait While Rejected

Change Availability
    [Documentation]    Inoperative makes a connector Unavailable, Operative makes it Available;
    ...    connector 0 applies to all; asking for the current state is Accepted; Unavailable
    ...    survives a reboot; during a transaction the change is Scheduled until it ends.
    [Tags]    step:2
    Change Availability    1    Inoperative    expect=Accepted
    Status Notification Should Arrive    1    Unavailable
    Change Availability    1    Inoperative    expect=Accepted
    Change Availability    1    Operative    expect=Accepted
    Status Notification Should Arrive    1    Available
    Change Availability    1    Operative    expect=Accepted
    ${mark}=    Mark Journal
    Change Availability    0    Inoperative    expect=Accepted
    Status Notification Should Arrive For Every Connector    Unavailable    after=${mark}
    ${mark}=    Mark Journal
    Change Availability    0    Operative    expect=Accepted
    Status Notification Should Arrive For Every Connector    Available    after=${mark}
    Unavailable Should Survive A Reboot    1
    Availability Change Should Wait For The Session

Get Configuration
    [Documentation]    All keys with their read-only flags and string values; every required
    ...    Core key; unknown keys listed in unknownKey; GetConfigurationMaxKeys honoured.
    [Tags]    step:3
    ${all}=    Get Configuration
    Configuration Should Contain Required Core Keys    ${all}
    Configuration Entries Should Be Well Formed    ${all}
    Unknown Settings Should Be Reported
    Get Configuration Should Honour Max Keys

Change Configuration
    [Documentation]    A writable key takes the new value; an unknown key is NotSupported; a
    ...    read-only key or a bad value is Rejected and changes nothing; the lab's measurands
    ...    are set in MeterValuesSampledData (refusals are remarks).
    [Tags]    step:4
    Configuration Change Should Take Effect    heartbeat interval    ${HEARTBEAT_PROBE}
    Configuration Change Of An Unknown Setting Should Be Refused
    Configuration Change Should Be Refused    read-only setting    9    Rejected
    Configuration Change Should Be Refused    heartbeat interval    not-a-number    Rejected
    Configuration Change Should Be Refused    sampled measurands    Hil.Unknown.Measurand    Rejected
    Configure Sampled Measurands

Heartbeat
    [Documentation]    With HeartbeatInterval set, heartbeats arrive at that cadence while idle.
    [Tags]    step:5
    ${interval}=    Lab Setting    timings.heartbeat_interval_s
    ${setting}=    Heartbeat Interval Setting
    Change Configuration    ${setting}    ${interval}    expect=Accepted
    Heartbeats Should Arrive Every    ${interval}
