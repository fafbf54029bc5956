*** Settings ***
Documentation       Charging sessions (steps 6, 7, 8, 13, 14, 15, 16), each verified twice: in the
...                 OCPP messages and physically — the pilot offers current, the reference meter
...                 and the power analyser see energy flow and stop.
Library             hil.robot.HilLab
Resource            resources/sessions.resource
Suite Setup         Prepare Station For Sessions
Test Tags           profile:Core

*** Test Cases ***
Charging Session - Local - Plugin First
    [Documentation]    Plug in → Preparing → tag → Authorize → StartTransaction and Charging →
    ...    energy flows → MeterValues with the transaction id → the same tag stops it without a
    ...    new Authorize → StopTransaction (Local) → energy stops → Finishing → unplug → Available.
    ...    meterStop − meterStart, MeterValues, reference meter and analyser must agree. On a DC
    ...    station also a session the EV ends at its target SoC: the energy stops, and the
    ...    transaction ends with a fitting reason or waits, SuspendedEV, for the tag.
    [Tags]    step:6    requires:ev    requires:identification
    ${tag}=    Lab Tag    valid
    Plug In EV
    Status Notification Should Arrive    1    Preparing
    EV Requests Charge
    Present Tag    ${tag}
    Authorize Should Be Sent    ${tag}
    Session Should Start Charging    ${tag}
    Meter Values Should Arrive During The Session
    Wait Until Energy Delivered
    ${mark}=    Mark Journal
    Present Tag    ${tag}
    Session Should End    Local    after=${mark}
    No Authorize Should Have Been Sent    after=${mark}
    Unplug EV
    Status Notification Should Arrive    1    Available
    Verify Session Energy
    Session The EV Ends Should Stop The Energy

Charging Session - Local - Identification First - Connection Loss
    [Documentation]    Tag first → plug → charging. The switch takes the station's port down; the
    ...    station keeps charging (the meter proves it) and ends the session offline. Port up →
    ...    it reconnects without a BootNotification and delivers the queued MeterValues and the
    ...    StopTransaction in chronological order, spaced by the sample interval, none missing.
    [Tags]    step:7    requires:ev    requires:identification    requires:network_switch
    ${tag}=    Lab Tag    valid
    ${mark}=    Mark Journal
    Present Tag    ${tag}
    Authorize Should Be Sent    ${tag}    after=${mark}
    Status Notification Should Arrive    1    Preparing    after=${mark}
    Plug In EV
    EV Requests Charge
    Session Should Start Charging    ${tag}
    Meter Values Should Arrive During The Session    count=1
    Disconnect Station From Network
    ${offline}=    Lab Setting    timings.offline_duration_s
    Energy Should Keep Flowing For    ${offline}
    Stop Session While Offline    ${tag}
    Reconnect Station To Network
    Station Should Reconnect Without Boot Notification
    Queued Messages Should Be Delivered In Order
    Unplug EV
    Status Notification Should Arrive    1    Available

Charging Session - Local - Identification First - Connection TimeOut
    [Documentation]    A valid tag makes the connector Preparing; without a cable it returns to
    ...    Available after ConnectionTimeOut (not before) and sends no StartTransaction. A
    ...    station refusing the lab's value is tested with the lowest it accepts (a remark).
    [Tags]    step:8    requires:identification
    Set Connection Timeout
    ${tag}=    Lab Tag    valid
    ${mark}=    Mark Journal
    Present Tag    ${tag}
    Authorize Should Be Sent    ${tag}    after=${mark}
    Connector Should Return To Available After Connection Timeout    after=${mark}
    Energy Should Not Flow

Charging Session - Local - Unauthorized
    [Documentation]    An invalid, a blocked and an expired tag are each refused: Authorize is not
    ...    Accepted, no StartTransaction, the pilot offers no current, the meter and the analyser
    ...    stay at zero; unplugged, the connector is Available again.
    [Tags]    step:13    requires:ev    requires:identification
    FOR    ${kind}    IN    invalid    blocked    expired
        Refused Tag Should Not Charge    ${kind}
    END

Charging Session - Remote Start And Stop Transaction - Cable First
    [Documentation]    Plug → Preparing → RemoteStartTransaction → Accepted → Authorize only if
    ...    AuthorizeRemoteTxRequests → StartTransaction with the same tag → Charging, energy flows →
    ...    RemoteStopTransaction → StopTransaction (Remote) → energy stops → Finishing → unplug →
    ...    Available. An unknown transaction id is Rejected.
    [Tags]    step:14    requires:ev
    ${tag}=    Lab Tag    valid
    Plug In EV
    Status Notification Should Arrive    1    Preparing
    EV Requests Charge
    Remote Start Transaction    ${tag}    1
    Session Should Start Charging    ${tag}
    Authorize Should Follow Authorize Remote Tx Requests    ${tag}
    Unknown Transaction Should Be Rejected
    ${mark}=    Mark Journal
    Remote Stop Transaction
    Session Should End    Remote    after=${mark}
    Unplug EV
    Status Notification Should Arrive    1    Available

Charging Session - Remote Start Transaction - Request First - Unlock Connector
    [Documentation]    RemoteStartTransaction before the plug → Preparing → plug within
    ...    ConnectionTimeOut → StartTransaction → Charging → UnlockConnector → Unlocked →
    ...    StopTransaction (UnlockCommand) → energy stops → Finishing → Available. N/A for a
    ...    tethered cable.
    [Tags]    step:15    requires:socket_connector    requires:ev
    ${tag}=    Lab Tag    valid
    Remote Start Transaction    ${tag}    1
    Status Notification Should Arrive    1    Preparing
    Plug In EV
    EV Requests Charge
    Session Should Start Charging    ${tag}
    ${mark}=    Mark Journal
    Unlock Connector    1
    Session Should End    UnlockCommand    after=${mark}
    Unplug EV
    Status Notification Should Arrive    1    Available

Hardware Related Notification / Error Condition
    [Documentation]    During a session the EV simulator shorts CP to PE (state E): Faulted with a
    ...    specific errorCode, energy stops; fault cleared → back to Charging with NoError and
    ...    energy flows again. A DC station also reports an insulation fault on the DC cable
    ...    as Faulted, charges no energy while it lasts and charges again once it is gone.
    [Tags]    step:16    requires:ev    requires:identification
    ${tag}=    Lab Tag    valid
    Plug In EV
    EV Requests Charge
    Present Tag    ${tag}
    Session Should Start Charging    ${tag}
    Inject Pilot Fault    E
    Connector Should Report Fault    1
    Energy Should Stop    after=the pilot fault
    Clear Pilot Fault
    Connector Should Recover    Charging    1
    Energy Should Flow
    Insulation Fault Should Be Reported    1
    Present Tag    ${tag}
    Transaction Should Stop    Local
